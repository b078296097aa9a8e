using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Kiteflow.Server.Security;

namespace Kiteflow.Server.Ui;

/// <summary>
/// The HTML every page starts as: head (styles, the page's modules preloaded), the header with the navigation, and a
/// <c>main</c> the page's module fills from the REST API. No inline script or style: the Content-Security-Policy needs
/// no <c>unsafe-inline</c>; only the code editor's generated styles are admitted, by a per-page style nonce.
/// </summary>
internal static class UiShell
{
    private static readonly (string Section, string Href, string Label, bool AdminOnly)[] Nav =
    [
        ("datasets", "/datasets", "Datasets", false),
        ("destinations", "/destinations", "Destinations", false),
        ("credentials", "/credentials", "Credentials", false),
        ("audit", "/audit", "Audit log", false),
        ("api-keys", "/api-keys", "API keys", true),
    ];

    /// <summary>The modules every page imports.</summary>
    private static readonly string[] Common = ["js/app.js", "js/api.js", "js/dom.js"];

    /// <param name="page">The page.</param>
    /// <param name="assets">Where its files are.</param>
    /// <param name="user">Who is logged in, or null.</param>
    /// <param name="styleNonce">The nonce the page's policy admits inline styles with (the code editor reads it from a meta tag), or null.</param>
    public static string Render(UiPage page, UiAssets assets, ClaimsPrincipal? user, string? styleNonce = null)
    {
        var html = HtmlEncoder.Default;
        var text = new StringBuilder(2048);
        text.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"color-scheme\" content=\"light dark\">\n")
            .Append(styleNonce is null ? string.Empty : $"<meta name=\"kiteflow-style-nonce\" content=\"{styleNonce}\">\n")
            .Append("<title>").Append(html.Encode(page.Title)).Append(" · Kiteflow</title>\n")
            .Append("<link rel=\"icon\" href=\"").Append(assets.Url("favicon.svg")).Append("\" type=\"image/svg+xml\">\n")
            .Append("<link rel=\"stylesheet\" href=\"").Append(assets.Url("app.css")).Append("\">\n");
        foreach (var css in page.Preload.Where(p => p.EndsWith(".css", StringComparison.Ordinal)))
        {
            text.Append("<link rel=\"stylesheet\" href=\"").Append(assets.Url(css)).Append("\">\n");
        }

        foreach (var module in Common.Append($"js/pages/{page.Id}.js").Concat(page.Preload.Where(p => p.EndsWith(".js", StringComparison.Ordinal))))
        {
            text.Append("<link rel=\"modulepreload\" href=\"").Append(assets.Url(module)).Append("\">\n");
        }

        text.Append("<script type=\"module\" src=\"").Append(assets.Url("js/app.js")).Append("\"></script>\n</head>\n")
            .Append("<body data-page=\"").Append(page.Id).Append("\" data-assets=\"").Append(assets.Url(string.Empty)).Append("\">\n")
            .Append("<a class=\"skip\" href=\"#main\">Skip to content</a>\n")
            .Append("<header class=\"top\">\n<a class=\"brand\" href=\"/datasets\"><img src=\"").Append(assets.Url("favicon.svg")).Append("\" alt=\"\" width=\"24\" height=\"24\">Kiteflow</a>\n");
        if (user?.Identity?.IsAuthenticated == true)
        {
            var admin = user.IsInRole(AuthSchemes.AdminRole);
            text.Append("<nav aria-label=\"Main\"><ul>\n");
            foreach (var (section, href, label, adminOnly) in Nav)
            {
                if (adminOnly && !admin)
                {
                    continue;
                }

                text.Append("<li><a href=\"").Append(href).Append('"');
                if (section == page.Section)
                {
                    text.Append(" aria-current=\"page\"");
                }

                text.Append('>').Append(label).Append("</a></li>\n");
            }

            text.Append("</ul></nav>\n<div class=\"who\"><a href=\"/account\"")
                .Append(page.Section == "account" ? " aria-current=\"page\"" : string.Empty)
                .Append(" title=\"Your account: change your password\">").Append(html.Encode(user.Identity.Name ?? string.Empty))
                .Append("</a><button type=\"button\" id=\"logout\" class=\"quiet\">Log out</button></div>\n");
        }

        text.Append("</header>\n<main id=\"main\" tabindex=\"-1\">\n<h1>").Append(html.Encode(page.Title)).Append("</h1>\n")
            .Append("<p class=\"loading\" role=\"status\">Loading…</p>\n</main>\n")
            .Append("<div id=\"toasts\" class=\"toasts\" role=\"status\" aria-live=\"polite\"></div>\n</body>\n</html>\n");
        return text.ToString();
    }
}
