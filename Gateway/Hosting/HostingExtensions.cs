using EventSourcedChat.Commands.Accounts;
using System.Text.Json;
using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Mail;
using EventSourcedChat.Commands.Notifications;
using EventSourcedChat.EventStore;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Gateway.Presence;
using EventSourcedChat.Gateway.RateLimiting;
using EventSourcedChat.Gateway.Realtime;
using EventSourcedChat.Projections;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Projections.Push;
using EventSourcedChat.ReadModels;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventSourcedChat.Gateway.Hosting;

public static class HostingExtensions
{
    /// <summary>The modules' checks of their own settings for insecure defaults (<see cref="InsecureDefaults"/>).</summary>
    public static IReadOnlyList<Func<IConfiguration, string?>> ModuleInsecureDefaults { get; } = [KeyRingProtection.InsecureDefault];

    public static WebApplicationBuilder AddEventSourcedChat(this WebApplicationBuilder builder)
    {
        var insecure = InsecureDefaults.Enforce(builder.Configuration, builder.Environment, ModuleInsecureDefaults);
        builder.Services.AddSingleton(new InsecureDefaultsFound(insecure));
        var roles = Roles.From(builder.Configuration);
        builder.Services.AddSingleton(roles);

        var postgres = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");
        var resilience = builder.Configuration.GetSection("Resilience").Get<ResilienceOptions>() ?? new ResilienceOptions();
        builder.Services.AddEventStore(postgres, resilience: resilience);
        builder.Services.AddSingleton<PostgresBreaker>();
        builder.Services.AddSingleton(new MigrationAssemblies([typeof(PostgresEventStore).Assembly, typeof(CommandsModule).Assembly, typeof(ProjectionsModule).Assembly]));
        // Registered before every other hosted service: nothing runs on an old schema.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, MigrationService>());

        builder.Services.AddSingleton<RedisConnection>();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemHandling.Customize);
        builder.Services.AddExceptionHandler<ProblemHandling>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new NulRefusal.StringConverter()));
        builder.Services.Configure<Microsoft.AspNetCore.SignalR.JsonHubProtocolOptions>(
            o => o.PayloadSerializerOptions.Converters.Add(new NulRefusal.StringConverter()));
        builder.Services.AddFiles(builder.Configuration, builder.Environment);
        builder.Services.AddCommands(builder.Configuration);
        builder.Services.AddReadModels();
        builder.Services.AddRealtime(builder.Configuration, roles.Gateway);
        builder.Services.AddPresence();
        if (roles.Projector)
        {
            builder.Services.AddProjectionRunner(ProjectionRunnerOptions.Parse(builder.Configuration["Projections:Run"]) with
            {
                AttemptsBeforeFailing = builder.Configuration.GetValue("Projections:AttemptsBeforeFailing", 3),
            });
            // Push:Enabled=false runs the read-model projections without the push worker (a projector
            // node dedicated to rebuilds, or a benchmark of the projections alone).
            if (builder.Configuration.GetValue("Push:Enabled", true))
            {
                builder.Services.AddPushWorker(builder.Configuration);
            }
            // The mail outbox's sender (any number of nodes may run it: each claims its own mails).
            builder.Services.AddMailWorker(builder.Configuration);
            // Deleted messages' files leave the store after Files:DeleteDelay (any number of nodes: repeats are harmless).
            builder.Services.AddFileReaper();
            // Mail for people who are away, decided from the log by a subscription of its own (one active node, by lease).
            builder.Services.AddNotificationWorker(builder.Configuration);
        }
        else
        {
            builder.Services.AddProjectionCatalog();
        }
        builder.Services.AddChatRateLimits(builder.Configuration);
        builder.AddTelemetryExport();
        builder.Services.AddOpenApi();
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<RedisHealthCheck>("redis", tags: ["ready"])
            .AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: ["ready"])
            .AddProjectionsHealthCheck("ready");
        return builder;
    }

    public static WebApplication MapEventSourcedChat(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseNulRefusal();
        app.UseWebClient();
        app.UsePostgresBreaker();
        app.UseStatusCodePages();
        app.UseRequestSizeLimit();
        app.UseAuthentication();
        app.UseTokenRevocation();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapCommands();
        app.MapQueries();
        app.MapObjects();
        app.MapAdmin();
        app.MapRealtime();
        app.MapPresence();
        // The one document there is, at a fixed route: a route value for the document name answered unknown names with
        // a plain-text 404 that echoed the name, where every other bad path gets problem+json (found by the fuzzer).
        app.MapOpenApi("/openapi/v1.json");
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteHealth });
        app.Logger.LogInformation("Running roles {Roles}", app.Services.GetRequiredService<Roles>());
        foreach (var found in app.Services.GetRequiredService<InsecureDefaultsFound>().Items)
        {
            app.Logger.Log(app.Environment.IsDevelopment() ? LogLevel.Information : LogLevel.Warning,
                "Insecure default in the {Environment} environment: {Found}", app.Environment.EnvironmentName, found);
        }
        return app;
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            dependencies = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString().ToLowerInvariant(), detail = e.Value.Description }),
        }));
    }
}
