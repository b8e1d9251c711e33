// Program.cs
var builder = DistributedApplication.CreateBuilder(args);

var cache = builder.AddRedis("cache");
var postgres = builder.AddPostgres("postgres")
    .AddDatabase("mydb");

builder.AddProject<Projects.MyApp>("myapp")
    .WithReference(cache)
    .WithReference(postgres);

builder.Build().Run();
