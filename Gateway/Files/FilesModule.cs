using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Gateway.Files;

/// <summary>The files' settings and the object store the configuration names (the embedded one: files on local disk).</summary>
public static class FilesModule
{
    public static IServiceCollection AddFiles(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSingleton(configuration.GetSection(FileSettings.Section).Get<FileSettings>() ?? new FileSettings());
        var root = Path.GetFullPath(configuration[LocalObjectStore.RootSetting] is { Length: > 0 } configured
            ? configured
            : Path.Combine(environment.ContentRootPath, ".data", "files"));
        services.AddSingleton(new LocalObjectStore(root, UrlSigner.From(configuration)));
        services.AddSingleton<IObjectStore>(sp => sp.GetRequiredService<LocalObjectStore>());
        return services;
    }
}
