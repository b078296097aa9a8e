using Microsoft.Net.Http.Headers;

namespace Kiteflow.Server.Ui;

/// <summary>
/// The web UI: pages (a server-rendered shell whose ES module fills it from the REST API) and their assets, on the
/// same origin as the API. Every page but <c>/login</c> needs a login and sends the browser to <c>/login</c> without
/// one; assets hold no data and are served to anyone, compressed, and cached for a year under a versioned path.
/// </summary>
internal static class UiEndpoints
{
    /// <summary>What assets may do: only this origin; no inline script or style, no plugins, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// A page's policy: the assets' one, plus a nonce for the one kind of inline style it needs — the code editor
    /// (CodeMirror) writes its styles into a &lt;style&gt; element, which it tags with this nonce. Scripts get no exception.
    /// </summary>
    public static string PagePolicy(string styleNonce) => ContentSecurityPolicy.Replace("style-src 'self'", $"style-src 'self' 'nonce-{styleNonce}'", StringComparison.Ordinal);

    public static readonly UiPage[] Pages =
    [
        new("/login", "login", "Log in", "login"),
        new("/datasets", "datasets", "Datasets", "datasets"),
        new("/datasets/{name}", "dataset", "Dataset", "datasets", "js/pages/datasets.js"),
        new("/destinations", "destinations", "Destinations", "destinations"),
        new("/destinations/new", "editor", "New destination", "destinations", "js/pages/credentials.js"),
        new("/destinations/{name}", "destination", "Destination", "destinations", "vendor/uplot.css", "vendor/uplot.js", "js/pages/audit.js", "js/pages/destinations.js"),
        new("/destinations/{name}/edit", "editor", "Edit destination", "destinations", "js/pages/credentials.js"),
        new("/credentials", "credentials", "Credentials", "credentials"),
        new("/audit", "audit", "Audit log", "audit"),
        new("/api-keys", "apikeys", "API keys", "api-keys"),
        new("/account", "account", "Your account", "account"),
    ];

    public static void Map(WebApplication app)
    {
        var assets = app.Services.GetRequiredService<UiAssets>();
        app.MapGet("/ui/{version}/{**path}", (string version, string path, HttpContext http) => ServeAsset(assets, version, path, http))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/", (HttpContext http) => Results.Redirect(IsLoggedIn(http) ? "/datasets" : "/login")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/favicon.ico", () => Results.Redirect(assets.Url("favicon.svg"))).AllowAnonymous().ExcludeFromDescription();
        foreach (var page in Pages)
        {
            app.MapGet(page.Route, (HttpContext http) => ServePage(page, assets, http)).AllowAnonymous().ExcludeFromDescription();
        }
    }

    private static IResult ServePage(UiPage page, UiAssets assets, HttpContext http)
    {
        var loggedIn = IsLoggedIn(http);
        if (page.Id == "login" && loggedIn)
        {
            return Results.Redirect(LocalTarget(http.Request.Query["next"]) ?? "/datasets");
        }

        if (page.Id != "login" && !loggedIn)
        {
            return Results.Redirect("/login?next=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
        }

        var nonce = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        SecurityHeaders(http.Response, PagePolicy(nonce));
        http.Response.Headers.CacheControl = "no-store";
        return Results.Content(UiShell.Render(page, assets, loggedIn ? http.User : null, nonce), "text/html; charset=utf-8");
    }

    private static async Task ServeAsset(UiAssets assets, string version, string path, HttpContext http)
    {
        var response = http.Response;
        if (!assets.TryGet(path, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        SecurityHeaders(response, ContentSecurityPolicy);

        // An older page asking for an older version gets today's file, but not for a year.
        response.Headers.CacheControl = version == assets.Version ? "public, max-age=31536000, immutable" : "no-cache";
        response.Headers.ETag = asset.ETag;
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        response.ContentType = asset.ContentType;
        if (http.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var accepted = http.Request.Headers.AcceptEncoding.ToString();
        byte[] body;
        if (accepted.Contains("br", StringComparison.OrdinalIgnoreCase) && asset.Brotli.Length < asset.Identity.Length)
        {
            response.Headers.ContentEncoding = "br";
            body = asset.Brotli;
        }
        else if (accepted.Contains("gzip", StringComparison.OrdinalIgnoreCase) && asset.Gzip.Length < asset.Identity.Length)
        {
            response.Headers.ContentEncoding = "gzip";
            body = asset.Gzip;
        }
        else
        {
            body = asset.Identity;
        }

        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            await response.Body.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
        }
    }

    private static void SecurityHeaders(HttpResponse response, string policy)
    {
        response.Headers.ContentSecurityPolicy = policy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
    }

    private static bool IsLoggedIn(HttpContext http) => http.User.Identity?.IsAuthenticated == true;

    /// <summary>A path on this server to go back to after logging in; anything else (another host, <c>//x</c>) is ignored.</summary>
    internal static string? LocalTarget(string? next) =>
        next is { Length: > 0 } && next[0] == '/' && (next.Length == 1 || (next[1] != '/' && next[1] != '\\')) ? next : null;
}
