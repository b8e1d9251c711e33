# ❌ Bad example for .NET: do NOT use
FROM mcr.microsoft.com/dotnet/sdk:8.0
WORKDIR /app
COPY . .
RUN dotnet publish -c Release -o /app/publish
CMD ["dotnet", "/app/publish/MyApp.dll"]
# Size: ~900 MB (the SDK is in the final image)
