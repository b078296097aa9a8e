using Kiteflow.Core.Catalog;
using Kiteflow.Server.Delivery;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>
/// <c>/api/v1/catalog</c>: what the UI offers while a destination is edited, from the same knowledge the planner
/// uses — the Buildkite endpoints Kiteflow recognises (for the URL's pick-list) and the name of the response dataset
/// a destination's webhook fills. The UI holds no copy of either.
/// </summary>
internal static class CatalogEndpoints
{
    /// <summary>The seed's "common Buildkite write endpoints", offered first.</summary>
    private static readonly string[] Common = ["builds.create", "pipelines.create", "pipelines.update", "annotations.create"];

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/catalog").WithTags("Catalog");
        group.MapGet("/endpoints", Endpoints).WithSummary("The Buildkite endpoints Kiteflow recognises: id, methods, URL (with {macros} for the path's variables), scope, whether it takes a body; the seed's common ones marked.");
        group.MapGet("/response-dataset", ResponseDataset).WithSummary("The name of the response dataset a destination of this name fills when its response webhook is on: ?destination=NAME.");
    }

    private static Ok<CatalogEndpoint[]> Endpoints() =>
        TypedResults.Ok(EndpointCatalog.Buildkite.Endpoints
            .Select(e => new CatalogEndpoint(e.Id, [.. e.Methods], "https://api.buildkite.com/v2" + e.PathTemplate, e.Scope, e.TakesBody, e.Summary, Array.IndexOf(Common, e.Id) is var i and >= 0 ? i : null))
            .OrderBy(e => e.Common ?? int.MaxValue)
            .ToArray());

    private static Results<Ok<ResponseDatasetName>, ValidationProblem> ResponseDataset(string? destination) =>
        Names.SlugProblem(destination, "destination") is { } problem
            ? Problems.Invalid("destination", problem)
            : TypedResults.Ok(new ResponseDatasetName(destination!, DeliveryServices.ResponseDatasetName(destination!)));

    /// <summary>One endpoint of the catalog.</summary>
    /// <param name="Id">e.g. <c>builds.create</c>.</param>
    /// <param name="Methods">The methods it answers, the usual first.</param>
    /// <param name="Url">The URL on api.buildkite.com, its variables as macros (<c>{org}</c>).</param>
    /// <param name="Scope">The token scope it needs.</param>
    /// <param name="TakesBody">Whether it reads a request body.</param>
    /// <param name="Summary">What it does.</param>
    /// <param name="Common">Its place among the seed's common write endpoints, or null.</param>
    internal sealed record CatalogEndpoint(string Id, string[] Methods, string Url, string? Scope, bool TakesBody, string Summary, int? Common);

    internal sealed record ResponseDatasetName(string Destination, string Dataset);
}
