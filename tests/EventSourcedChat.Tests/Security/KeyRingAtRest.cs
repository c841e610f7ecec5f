using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EventSourcedChat.Gateway.Hosting;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// The token key ring at rest: encrypted to the configured certificate, useless without it, readable across a
/// certificate rotation; and a node outside Development refuses the built-in credentials and an unprotected ring.
/// Each test runs its hosts on a database of its own, so the shared test database's key ring is not touched.
/// </summary>
public sealed class KeyRingAtRest(PostgresFixture db) : ApiTest(db), IDisposable
{
    private static readonly string Database = $"{PostgresFixture.DatabaseName}_keyring";
    private readonly string _folder = Directory.CreateTempSubdirectory("esc-keyring-").FullName;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await PostgresFixture.CreateDatabaseAsync(Database, dropFirst: true);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task The_key_ring_is_stored_encrypted_to_the_configured_certificate()
    {
        var certificate = NewCertificate("first");
        await using var host = Node(("DataProtection:Certificate:Path", certificate.Path), ("DataProtection:Certificate:Password", certificate.Password));
        await RegisterAsync("ada", host);

        var keys = await StoredKeysAsync();
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal); // where an unprotected key keeps its secret
        });
    }

    [Fact]
    public async Task A_copy_of_the_database_without_the_certificate_cannot_accept_the_tokens_it_protects()
    {
        var certificate = NewCertificate("first");
        await using var issuer = Node(("DataProtection:Certificate:Path", certificate.Path), ("DataProtection:Certificate:Password", certificate.Password));
        var ada = await RegisterAsync("ada", issuer);

        await using var withoutCertificate = Node();
        Assert.Equal(HttpStatusCode.Unauthorized, await AcceptedAsync(ada, withoutCertificate));

        await using var withCertificate = Node(("DataProtection:Certificate:Path", certificate.Path), ("DataProtection:Certificate:Password", certificate.Password));
        Assert.Equal(HttpStatusCode.Created, await AcceptedAsync(ada, withCertificate));
    }

    [Fact]
    public async Task After_a_certificate_rotation_tokens_stay_valid_while_the_old_certificate_is_kept_for_reading()
    {
        var first = NewCertificate("first");
        var second = NewCertificate("second");
        await using var before = Node(("DataProtection:Certificate:Path", first.Path), ("DataProtection:Certificate:Password", first.Password));
        var ada = await RegisterAsync("ada", before);

        await using var rotated = Node(
            ("DataProtection:Certificate:Path", second.Path), ("DataProtection:Certificate:Password", second.Password),
            ("DataProtection:PreviousCertificates:0:Path", first.Path), ("DataProtection:PreviousCertificates:0:Password", first.Password));
        Assert.Equal(HttpStatusCode.Created, await AcceptedAsync(ada, rotated));

        await using var oldOneDropped = Node(("DataProtection:Certificate:Path", second.Path), ("DataProtection:Certificate:Password", second.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, await AcceptedAsync(ada, oldOneDropped));
    }

    [Fact]
    public async Task A_certificate_in_PEM_files_protects_the_key_ring_too()
    {
        var certificate = NewCertificate("pem");
        await using var host = Node(("DataProtection:Certificate:Path", certificate.PemPath), ("DataProtection:Certificate:KeyPath", certificate.PemKeyPath));
        await RegisterAsync("ada", host);

        Assert.All(await StoredKeysAsync(), xml => Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Outside_Development_a_node_refuses_to_start_with_the_built_in_credentials_or_an_unprotected_key_ring()
    {
        await using var unprotected = Node(("environment", "Production"));
        var refused = Assert.ThrowsAny<Exception>(() => unprotected.Server);
        var message = Innermost(refused).Message;
        Assert.Contains("Refusing to start in the 'Production' environment", message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Postgres logs in with the built-in esc/esc credentials", message, StringComparison.Ordinal);
        Assert.Contains("No key protection", message, StringComparison.Ordinal);

        var certificate = NewCertificate("first");
        await using var protectedButDefaultCredentials = Node(("environment", "Production"),
            ("DataProtection:Certificate:Path", certificate.Path), ("DataProtection:Certificate:Password", certificate.Password));
        message = Innermost(Assert.ThrowsAny<Exception>(() => protectedButDefaultCredentials.Server)).Message;
        Assert.Contains("built-in esc/esc credentials", message, StringComparison.Ordinal);
        Assert.DoesNotContain("No key protection", message, StringComparison.Ordinal);

        // The explicit opt-in of local test and benchmark runs on scripts/services.sh starts, and says what it accepted.
        await using var allowed = Node(("environment", "Production"), (InsecureDefaults.AllowSetting, "true"));
        Assert.Equal(HttpStatusCode.OK, (await allowed.CreateClient().GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_node_in_Development_starts_with_the_defaults()
    {
        await using var host = Node(("environment", "Development"));
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("Host=db;Username=esc;Password=esc;Database=esc", "amqp://chat:s3cret@mq:5672/", true, "ConnectionStrings:Postgres")]
    [InlineData("Host=db;Username=chat;Password=s3cret;Database=esc", "amqp://esc:esc@mq:5672/", true, "ConnectionStrings:RabbitMq")]
    [InlineData("Host=db;Username=chat;Password=s3cret;Database=esc", "amqp://chat:s3cret@mq:5672/", false, "No key protection")]
    [InlineData("Host=db;Username=esc;Password=other;Database=esc", "amqp://esc:other@mq:5672/", true, null)]
    public void The_insecure_defaults_are_named_setting_by_setting(string postgres, string rabbit, bool keyProtected, string? expected)
    {
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = postgres, ["ConnectionStrings:RabbitMq"] = rabbit };
        if (keyProtected)
        {
            settings["DataProtection:Certificate:Path"] = "/etc/chat/keyring.pfx";
        }
        var found = InsecureDefaults.Find(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), HostingExtensions.ModuleInsecureDefaults);

        if (expected is null)
        {
            Assert.Empty(found);
        }
        else
        {
            Assert.Single(found, f => f.StartsWith(expected, StringComparison.Ordinal));
            Assert.Single(found);
        }
    }

    private ChatHost Node(params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = PostgresFixture.WithDatabase(Database),
            ["Roles"] = "api",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        return new ChatHost(Db, all);
    }

    /// <summary>How a node answers the user's token (on a command: these nodes run the API role without read models).</summary>
    private static async Task<HttpStatusCode> AcceptedAsync(TestUser user, ChatHost node) =>
        (await user.On(node).SendAsync("POST", "/v1/workspaces", new { name = "Acme" })).StatusCode;

    private async Task<List<string>> StoredKeysAsync()
    {
        await using var data = NpgsqlDataSource.Create(PostgresFixture.WithDatabase(Database));
        await using var cmd = data.CreateCommand("select xml from dp_keys order by id");
        await using var reader = await cmd.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }
        return keys;
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);

    private sealed record TestCertificate(string Path, string Password, string PemPath, string PemKeyPath);

    /// <summary>A self-signed RSA certificate, written as PKCS#12 (with a password) and as PEM certificate and key.</summary>
    private TestCertificate NewCertificate(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=EventSourcedChat key ring {name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var path = System.IO.Path.Combine(_folder, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        var pem = System.IO.Path.Combine(_folder, $"{name}.crt");
        var key = System.IO.Path.Combine(_folder, $"{name}.key");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        return new TestCertificate(path, password, pem, key);
    }
}
