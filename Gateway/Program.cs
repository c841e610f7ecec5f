using EventSourcedChat.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddEventSourcedChat();

var app = builder.Build();
app.MapEventSourcedChat();
app.Run();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
