using System.Net;
using Amazon.S3;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// The file flows (<see cref="FileFlows"/>) on the S3 object store, against the S3-compatible server of
/// <c>scripts/services.sh</c> (npm <c>s3rver</c>): pre-signed URLs straight to the store, the upload completed by the
/// API reading the bytes back. Its own host (<c>Files:Store=s3</c>), on the same test database.
/// </summary>
public sealed class FilesOnS3(PostgresFixture db) : FileFlows(db)
{
    private static readonly Lock Gate = new();
    private static ChatHost? _host;

    protected override Dictionary<string, string?> StoreSettings => S3TestServer.Settings();

    protected override ChatHost Host
    {
        get
        {
            lock (Gate)
            {
                return _host ??= new ChatHost(Db, new(StoreSettings) { ["RateLimits:PostsPerSecond"] = "1000", ["RateLimits:PostsBurst"] = "1000" });
            }
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await S3TestServer.EnsureBucketAsync(Host.Services.GetRequiredService<IAmazonS3>(), Host.Services.GetRequiredService<S3Settings>().Bucket);
    }

    protected override HttpClient StoreClient() => new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>S3 answers with the object's headers and the overrides its URL signs (type, disposition); it adds no others.</summary>
    protected override bool StoreAddsSecurityHeaders => false;

    protected override Task<bool> StoredAsync(string fileId) => Host.Services.GetRequiredService<S3ObjectStore>().ExistsAsync(fileId, default);

    /// <summary>
    /// None: s3rver 3.7.1 does not verify version 4 signatures (an altered URL is served as the original would be; see
    /// docs/files.md), so only expiry is refused here. AWS S3 and MinIO check the signature.
    /// </summary>
    protected override IEnumerable<string> Altered(string url, string fileId) => [];

    protected override Task AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // S3's own answer: XML, code AccessDenied
        return Task.CompletedTask;
    }
}
