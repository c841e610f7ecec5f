namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// Which object store holds the files (<c>Files:Store</c>: <c>local</c>, the default, or <c>s3</c>) and, for S3, where
/// (section <c>Files:S3</c>). <see cref="ServiceUrl"/> names an S3-compatible server (MinIO, s3rver), addressed by path
/// (<c>{ServiceUrl}/{bucket}/{key}</c>); unset, the AWS endpoint of <see cref="Region"/>. Without an access key the
/// SDK's default credentials apply (environment, profile, instance role).
/// </summary>
public sealed record S3Settings
{
    public const string StoreSetting = "Files:Store";
    public const string Section = "Files:S3";
    public const string Local = "local";
    public const string S3 = "s3";

    public string? ServiceUrl { get; init; }

    public string Bucket { get; init; } = "";

    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Path-style addressing (<c>host/bucket/key</c>), what S3-compatible servers expect; on by default.</summary>
    public bool ForcePathStyle { get; init; } = true;

    /// <summary>The configured store's name, checked: <c>local</c> or <c>s3</c>.</summary>
    public static string StoreOf(IConfiguration configuration) =>
        (configuration[StoreSetting] is { Length: > 0 } store ? store.Trim().ToLowerInvariant() : Local) switch
        {
            Local => Local,
            S3 => S3,
            var other => throw new InvalidOperationException($"{StoreSetting} is '{other}'; it is '{Local}' or '{S3}'."),
        };

    public static S3Settings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<S3Settings>() ?? new S3Settings();
        return settings.Bucket.Length > 0 ? settings : throw new InvalidOperationException($"{Section}:Bucket is not set (the S3 store needs a bucket).");
    }
}
