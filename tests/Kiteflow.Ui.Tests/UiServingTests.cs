using System.Net;
using System.Text.RegularExpressions;
using Kiteflow.Server.Ui;

namespace Kiteflow.Ui.Tests;

/// <summary>How pages and assets are served: login first, a strict Content-Security-Policy, compression, caching, and the script budget.</summary>
[Collection(UiCollection.Name)]
public sealed partial class UiServingTests(UiFixture ui)
{
    /// <summary>At most this much script, compressed, on a page's first load (issue 10).</summary>
    private const int ScriptBudgetBytes = 200 * 1024;

    public static TheoryData<string> PagePaths => new() { "/datasets", "/datasets/x", "/destinations", "/destinations/new?dataset=x", "/destinations/x", "/destinations/x/edit", "/credentials", "/audit", "/api-keys" };

    [Theory]
    [MemberData(nameof(PagePaths))]
    public async Task Page_WithoutLogin_RedirectsToLoginAndBack(string path)
    {
        using var http = Anonymous();

        var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login?next=" + Uri.EscapeDataString(path), response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Login_WhenLoggedIn_GoesOnlyToAPathOfThisServer()
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = ui.BaseAddress };
        (await http.PostAsync("/api/v1/session", System.Net.Http.Json.JsonContent.Create(new { user = "admin", password = UiFixture.AdminPassword }))).EnsureSuccessStatusCode();

        async Task<string> TargetAsync(string next)
        {
            var response = await http.GetAsync("/login?next=" + Uri.EscapeDataString(next));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            return response.Headers.Location!.OriginalString;
        }

        Assert.Equal("/audit?x=1", await TargetAsync("/audit?x=1"));
        Assert.Equal("/datasets", await TargetAsync("//elsewhere.example/x"));
        Assert.Equal("/datasets", await TargetAsync("https://elsewhere.example/"));
        Assert.Equal("/datasets", await TargetAsync("/\\elsewhere.example"));
    }

    [Fact]
    public async Task LoginPage_HasAStrictContentSecurityPolicy_AndNoInlineScriptOrStyle()
    {
        using var http = Anonymous();

        var response = await http.GetAsync("/login");
        var html = await response.Content.ReadAsStringAsync();

        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        var nonce = Regex.Match(csp, "style-src 'self' 'nonce-(?<n>[A-Za-z0-9+/=]+)'").Groups["n"].Value;
        Assert.Equal(24, nonce.Length);
        Assert.Contains($"<meta name=\"kiteflow-style-nonce\" content=\"{nonce}\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain(nonce, string.Join(' ', (await http.GetAsync("/login")).Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.DoesNotMatch(InlineScript(), html);
        Assert.DoesNotMatch(InlineHandlerOrStyle(), html);
        Assert.DoesNotContain("http://", html.Replace(ui.BaseAddress.ToString(), string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_AreServedCompressed_CachedForAYearUnderTheirVersion_AndRevalidated()
    {
        var assets = (UiAssets)ui.App.Services.GetService(typeof(UiAssets))!;
        using var http = Anonymous();

        using var brotli = new HttpRequestMessage(HttpMethod.Get, assets.Url("js/pages/editor.js"));
        brotli.Headers.Add("Accept-Encoding", "br, gzip");
        var br = await http.SendAsync(brotli);
        using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, assets.Url("app.css"));
        gzipRequest.Headers.Add("Accept-Encoding", "gzip");
        var gzip = await http.SendAsync(gzipRequest);
        using var again = new HttpRequestMessage(HttpMethod.Get, assets.Url("app.css"));
        again.Headers.IfNoneMatch.Add(gzip.Headers.ETag!);
        var notModified = await http.SendAsync(again);
        var old = await http.GetAsync("/ui/000000000000/app.css");

        Assert.Equal(HttpStatusCode.OK, br.StatusCode);
        Assert.Equal("br", Assert.Single(br.Content.Headers.ContentEncoding));
        Assert.Equal("text/javascript", br.Content.Headers.ContentType!.MediaType);
        Assert.True(br.Content.Headers.ContentLength < assets.All["js/pages/editor.js"].Identity.Length / 2);
        Assert.Equal("public, max-age=31536000, immutable", br.Headers.CacheControl!.ToString());
        Assert.Equal("gzip", Assert.Single(gzip.Content.Headers.ContentEncoding));
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal("no-cache", old.Headers.CacheControl!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(assets.Url("js/nothing.js"))).StatusCode);
    }

    [Theory]
    [InlineData("/login", false)]
    [InlineData("/datasets", true)]
    [InlineData("/datasets/x", true)]
    [InlineData("/destinations/new", true)]
    [InlineData("/destinations/x", true)]
    [InlineData("/audit", true)]
    public async Task Page_ScriptItLoadsAtFirst_IsWithinTheBudgetCompressed(string path, bool login)
    {
        var assets = (UiAssets)ui.App.Services.GetService(typeof(UiAssets))!;
        var page = UiEndpoints.Pages.Single(p => Regex.IsMatch(path, "^" + Regex.Replace(p.Route, "\\{[^}]+\\}", "[^/]+") + "$") && (p.Id != "destination" || !path.EndsWith("/new", StringComparison.Ordinal)));
        Assert.Equal(login, page.Id != "login");

        // Every module the shell preloads or starts, and every module they import statically, compressed as served.
        var html = UiShell.Render(page, assets, null);
        var pending = new Queue<string>(AssetReference().Matches(html).Select(m => m.Groups["path"].Value).Where(p => p.EndsWith(".js", StringComparison.Ordinal)));
        var seen = new HashSet<string>();
        long bytes = 0;
        while (pending.TryDequeue(out var module))
        {
            if (!seen.Add(module))
            {
                continue;
            }

            var asset = assets.All[module];
            bytes += asset.Brotli.Length;
            foreach (Match import in StaticImport().Matches(System.Text.Encoding.UTF8.GetString(asset.Identity)))
            {
                pending.Enqueue(Path.GetRelativePath(".", Path.Combine(Path.GetDirectoryName(module)!, import.Groups["path"].Value)).Replace('\\', '/'));
            }
        }

        Assert.Contains("js/app.js", seen);
        Assert.Contains($"js/pages/{page.Id}.js", seen);
        Assert.DoesNotContain("vendor/codemirror.js", seen);
        Assert.True(bytes <= ScriptBudgetBytes, $"{path} loads {bytes:N0} bytes of script at first.");
    }

    private HttpClient Anonymous() => new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = ui.BaseAddress };

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("\\s(on[a-z]+|style)\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandlerOrStyle();

    [GeneratedRegex("/ui/[0-9a-f]+/(?<path>[^\"]+)\"")]
    private static partial Regex AssetReference();

    [GeneratedRegex("^import\\s[^;]*?from\\s*'(?<path>\\.[^']+)'", RegexOptions.Multiline)]
    private static partial Regex StaticImport();
}
