using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Audit;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Invites;
using EventSourcedChat.Commands.Mail;
using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Commands.Notifications;
using EventSourcedChat.Commands.Profiles;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Audit;
using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

using EventSourcedChat.Contracts.Api;

namespace EventSourcedChat.Commands;

/// <summary>The write side as a mappable module: services and the REST command endpoints under <c>/v1</c>.</summary>
public static class CommandsModule
{
    public static IServiceCollection AddCommands(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ChatEventStore>();
        services.AddSingleton<PostGroups>();
        services.AddSingleton<RevokedTokens>();
        services.AddHostedService(sp => sp.GetRequiredService<RevokedTokens>());
        services.AddSingleton<ITokenRevocations>(sp => sp.GetRequiredService<RevokedTokens>());
        services.AddSingleton<Tokens>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<IAuditTrail, RecordAuditRead>();
        services.AddSingleton<IFileUploads, FileUploads>();
        services.AddSingleton<IFileReleases, FileReleases>();
        services.AddSingleton<FileSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<FileSweeper>());
        services.AddSingleton<IPasswordHasher<string>, PasswordHasher<string>>();
        services.AddKeyRing(configuration);
        services.AddMailSettings(configuration);
        services.AddSingleton<UnsubscribeLinks>();
        services.AddAuthentication(BearerTokenDefaults.AuthenticationScheme)
            .AddBearerToken(BearerTokenDefaults.AuthenticationScheme, options =>
            {
                options.BearerTokenExpiration = TimeSpan.FromDays(30);
                options.Events.OnMessageReceived = context =>
                {
                    // Browsers cannot set headers on WebSockets: the hub also takes ?access_token=.
                    if (context.Request.Path.StartsWithSegments("/v1/gateway")
                        && context.Request.Query.TryGetValue("access_token", out var token))
                    {
                        context.Token = token;
                    }
                    return Task.CompletedTask;
                };
            });
        services.AddAuthorization();
        return services;
    }

    public static IEndpointRouteBuilder MapCommands(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization().WithTags("Commands")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapRegister().MapLogin().MapLogout();
        v1.MapLogoutEverywhere().MapChangePassword().MapPasswordReset().MapConfirmPasswordReset();
        v1.MapCreateWorkspace().MapWorkspaceMembers().MapRemoveWorkspaceMember();
        v1.MapInviteCommands();
        v1.MapUserActivation();
        v1.MapChannelCommands();
        v1.MapMessageCommands();
        v1.MapUpdateProfile().MapStatus();
        v1.MapRequestUpload().MapCompleteUpload();
        v1.MapNotificationCommands();
        return app;
    }
}
