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
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self' ws: wss:; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Paths (besides <c>/</c>) that serve the page: the links of the mails the application sends.</summary>
    public static readonly IReadOnlySet<string> PagePaths = new HashSet<string>(StringComparer.Ordinal) { "/reset-password" };

    public static WebApplication UseWebClient(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            headers[HeaderNames.XFrameOptions] = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
            headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
            return next(context);
        });

        var root = Root(app);
        if (root is null)
        {
            app.Logger.LogWarning("Web client not built (no web/dist): run scripts/web.sh build to serve it at /");
            return app;
        }
        var files = new PhysicalFileProvider(root);
        // The paths mails link to are the same single page, which reads its own path (the reset link: /reset-password).
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
