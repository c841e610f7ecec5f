using EventSourcedChat.Contracts.Files;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// Serves the single-page web client (built from <c>web/</c> by <c>scripts/web.sh build</c>) at <c>/</c>, and sets the
/// security headers on every answer. The folder is <c>WebClient:Root</c>, else <c>web/dist</c> next to the Gateway
/// project; when it does not exist the API runs without the page (a warning says how to build it).
/// </summary>
public static class WebClient
{
    /// <summary>The page loads only its own script and style, talks only to its own origin (REST and the hub's WebSocket).</summary>
    public static readonly string ContentSecurityPolicy = ContentSecurityPolicyFor(null);

    /// <summary>
    /// The page's policy when the object store's URLs are on another origin (S3): that one origin, and no other, is added
    /// to <c>img-src</c> (previews, avatars) and <c>connect-src</c> (uploads).
    /// </summary>
    public static string ContentSecurityPolicyFor(string? storeOrigin)
    {
        var store = storeOrigin is null ? "" : " " + storeOrigin;
        return $"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{store}; font-src 'self'; " +
               $"connect-src 'self' ws: wss:{store}; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }

    /// <summary>
    /// The origin the object store's signed URLs point at when it is not this host (S3: its endpoint, or the bucket's
    /// virtual host), found by signing a URL (no request is made); null for the embedded store (URLs on this origin).
    /// </summary>
    public static string? StoreOrigin(IObjectStore objects, ILogger logger)
    {
        try
        {
            var probe = objects.SignDownload(new string('0', 32), new FileDownload("probe.png", "image/png"), DateTimeOffset.UtcNow.AddMinutes(1));
            return Uri.TryCreate(probe, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.GetLeftPart(UriPartial.Authority) : null;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The object store signs no URL at start: the page's policy names no store origin");
            return null;
        }
    }

    /// <summary>
    /// Paths (besides <c>/</c>) that serve the page itself (<c>index.html</c>): the links of the mails the application
    /// sends and the invite links (docs/api.md, Invites and Passwords).
    /// </summary>
    public static readonly IReadOnlySet<string> PagePaths = new HashSet<string>(StringComparer.Ordinal) { "/invite", "/reset-password" };

    public static WebApplication UseWebClient(this WebApplication app)
    {
        var policy = ContentSecurityPolicyFor(StoreOrigin(app.Services.GetRequiredService<IObjectStore>(), app.Logger));
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            headers[HeaderNames.XFrameOptions] = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
            headers[HeaderNames.ContentSecurityPolicy] = policy;
            return next(context);
        });

        var root = Root(app);
        if (root is null)
        {
            app.Logger.LogWarning("Web client not built (no web/dist): run scripts/web.sh build to serve it at /");
            return app;
        }
        var files = new PhysicalFileProvider(root);
        // The paths mails link to are the same single page, which reads its own path (an invite: /invite?code=..., the reset link: /reset-password).
        app.Use((context, next) =>
        {
            if ((HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                && PagePaths.Contains(context.Request.Path.Value ?? ""))
            {
                context.Request.Path = "/index.html";
            }
            return next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            // The file names carry no hash: the browser revalidates every time (ETag), so a new build shows at once.
            OnPrepareResponse = c => c.Context.Response.Headers[HeaderNames.CacheControl] = "no-cache",
        });
        app.Logger.LogInformation("Serving the web client from {Root}", root);
        return app;
    }

    private static string? Root(WebApplication app)
    {
        var configured = app.Configuration["WebClient:Root"];
        var path = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(app.Environment.ContentRootPath, "..", "web", "dist")
            : Path.Combine(app.Environment.ContentRootPath, configured);
        path = Path.GetFullPath(path);
        return File.Exists(Path.Combine(path, "index.html")) ? path : null;
    }
}
