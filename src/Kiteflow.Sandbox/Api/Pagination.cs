using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Extensions;

namespace Kiteflow.Sandbox.Api;

/// <summary>
/// <c>page</c> (default 1) and <c>per_page</c> (default 30, at most 100), with a <c>Link</c> header holding
/// <c>next</c>, <c>prev</c>, <c>first</c> and <c>last</c> as they apply. Links keep the request's other
/// parameters and point at the sandbox itself, so a client that follows them stays there.
/// </summary>
internal static class Pagination
{
    public const int DefaultPerPage = 30;
    public const int MaxPerPage = 100;

    public static ApiResult Page<T>(RequestContext context, IReadOnlyList<T> items, Func<T, JsonNode> render)
    {
        var page = Parse(context.Query("page"), 1);
        var perPage = Math.Clamp(Parse(context.Query("per_page"), DefaultPerPage), 1, MaxPerPage);
        var last = Math.Max(1, (items.Count + perPage - 1) / perPage);
        var array = new JsonArray();
        var start = (long)(page - 1) * perPage;
        for (var i = start; i < Math.Min(items.Count, start + perPage); i++)
        {
            array.Add(render(items[(int)i]));
        }

        var result = ApiResult.Ok(array);
        var links = new List<string>();
        if (page < last)
        {
            links.Add(Link(context.Http.Request, page + 1, "next"));
            links.Add(Link(context.Http.Request, last, "last"));
        }

        if (page > 1)
        {
            links.Add(Link(context.Http.Request, 1, "first"));
            links.Add(Link(context.Http.Request, Math.Min(page - 1, last), "prev"));
        }

        if (links.Count > 0)
        {
            result.Headers["Link"] = string.Join(", ", links);
        }

        return result;
    }

    private static int Parse(string? value, int fallback) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : fallback;

    private static string Link(HttpRequest request, int page, string rel)
    {
        var query = new QueryBuilder();
        foreach (var (key, values) in request.Query)
        {
            if (key != "page")
            {
                foreach (var value in values)
                {
                    query.Add(key, value ?? "");
                }
            }
        }

        query.Add("page", page.ToString(CultureInfo.InvariantCulture));
        var url = UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, query.ToQueryString());
        return $"<{url}>; rel=\"{rel}\"";
    }
}
