// Program.cs in ASP.NET Core
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

// IHostApplicationLifetime: the built-in mechanism
var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();

lifetime.ApplicationStopping.Register(() =>
{
    Console.WriteLine("Stop signal received...");
    // Cleanup logic
});

app.Run();
