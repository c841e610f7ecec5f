using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// The Data Protection key ring (which signs and encrypts every bearer token) in PostgreSQL, protected at rest: each key is
/// encrypted to the certificate in <c>DataProtection:Certificate</c> before it is written to <c>dp_keys</c>, so a dump of
/// the database alone cannot mint tokens. Certificates listed in <c>DataProtection:PreviousCertificates</c> still
/// decrypt the keys they protected (rotation: see docs/operations.md).
/// </summary>
public static class KeyRingProtection
{
    public const string ApplicationName = "EventSourcedChat";
    public const string CertificateSection = "DataProtection:Certificate";
    public const string PreviousCertificatesSection = "DataProtection:PreviousCertificates";

    /// <summary>True when a certificate protects the key ring.</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[$"{CertificateSection}:Path"]);

    /// <summary>
    /// The key ring's insecure default, for the host's start-up check: a sentence naming the settings to change, or
    /// null when a certificate protects the key ring.
    /// </summary>
    public static string? InsecureDefault(IConfiguration configuration) => IsConfigured(configuration)
        ? null
        : $"No key protection: the token key ring would be stored in plain text; set {CertificateSection}:Path (and :Password or :KeyPath).";

    public static IServiceCollection AddKeyRing(this IServiceCollection services, IConfiguration configuration)
    {
        var dataProtection = services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>()
            .Configure<NpgsqlDataSource>((options, db) => options.XmlRepository = new PostgresXmlRepository(db));
        if (Load(configuration.GetSection(CertificateSection)) is { } current)
        {
            var previous = configuration.GetSection(PreviousCertificatesSection).GetChildren().Select(Load).OfType<X509Certificate2>();
            dataProtection.ProtectKeysWithCertificate(current).UnprotectKeysWithAnyCertificate([current, .. previous]);
        }
        return services;
    }

    /// <summary>
    /// A certificate with its RSA private key: a PKCS#12 file (<c>Path</c>, optional <c>Password</c>) or a PEM certificate
    /// with its key in <c>KeyPath</c> (encrypted when <c>Password</c> is set). Null when the section has no path.
    /// </summary>
    public static X509Certificate2? Load(IConfigurationSection section)
    {
        var path = section["Path"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{section.Path}:Path: there is no file at '{path}'.");
        }
        var password = section["Password"];
        var keyPath = section["KeyPath"];
        var certificate = string.IsNullOrWhiteSpace(keyPath)
            ? X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet)
            : string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
        using var key = certificate.GetRSAPrivateKey();
        if (key is null)
        {
            throw new InvalidOperationException(
                $"{section.Path}: the certificate at '{path}' has no RSA private key (the key ring is encrypted with RSA).");
        }
        return certificate;
    }
}
