using Amazon.S3;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// The files' settings and the object store the configuration names (<c>Files:Store</c>): <c>local</c> (the default,
/// files on local disk served by this host) or <c>s3</c> (<see cref="S3Settings"/>). The embedded store's endpoints
/// stay mapped either way; with S3 nothing signs URLs for them.
/// </summary>
public static class FilesModule
{
    public static IServiceCollection AddFiles(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSingleton(configuration.GetSection(FileSettings.Section).Get<FileSettings>() ?? new FileSettings());
        var root = Path.GetFullPath(configuration[LocalObjectStore.RootSetting] is { Length: > 0 } configured
            ? configured
            : Path.Combine(environment.ContentRootPath, ".data", "files"));
        services.AddSingleton(new LocalObjectStore(root, UrlSigner.From(configuration)));
        if (S3Settings.StoreOf(configuration) == S3Settings.S3)
        {
            var s3 = S3Settings.From(configuration);
            services.AddSingleton(s3);
            services.AddSingleton<IAmazonS3>(_ => S3ObjectStore.CreateClient(s3));
            services.AddSingleton<S3ObjectStore>();
            services.AddSingleton<IObjectStore>(sp => sp.GetRequiredService<S3ObjectStore>());
        }
        else
        {
            services.AddSingleton<IObjectStore>(sp => sp.GetRequiredService<LocalObjectStore>());
        }
        services.AddSingleton<IImageThumbnails, ImageThumbnails>();
        services.AddSingleton<IAvatarImages, AvatarImages>();
        return services;
    }
}
