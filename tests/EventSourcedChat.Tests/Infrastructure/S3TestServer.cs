using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using EventSourcedChat.Gateway.Files;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The S3-compatible server the tests run the S3 object store against: npm <c>s3rver</c>, started by
/// <c>scripts/services.sh up</c>, whose <c>env</c> exports where it is (<c>Files__S3__ServiceUrl</c>, bucket, keys,
/// region). A missing variable fails the test that needs it, naming the variable: it is never skipped.
/// </summary>
public static class S3TestServer
{
    private static readonly string[] Variables = ["ServiceUrl", "Bucket", "AccessKey", "SecretKey", "Region"];

    /// <summary>The host settings that select the S3 store on this server.</summary>
    public static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?> { [S3Settings.StoreSetting] = S3Settings.S3 };
        foreach (var name in Variables)
        {
            var variable = $"Files__S3__{name}";
            settings[$"{S3Settings.Section}:{name}"] = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException(
                    $"{variable} is not set: the S3 store's tests need the S3-compatible server of scripts/services.sh (eval \"$(scripts/services.sh env)\").");
        }
        return settings;
    }

    /// <summary>Creates the bucket unless it exists (the services script creates it at start).</summary>
    public static async Task EnsureBucketAsync(IAmazonS3 s3, string bucket)
    {
        try
        {
            await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // BucketAlreadyOwnedByYou / BucketAlreadyExists: there already.
        }
    }
}
