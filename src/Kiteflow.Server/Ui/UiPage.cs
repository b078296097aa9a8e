namespace Kiteflow.Server.Ui;

/// <summary>One page of the web UI: its route, the module that fills it and the modules it needs at once.</summary>
/// <param name="Route">The route pattern, e.g. <c>/datasets/{name}</c>.</param>
/// <param name="Id">The page's module under <c>js/pages/</c>, without <c>.js</c>; also the nav entry it highlights.</param>
/// <param name="Title">The page's title until its module sets a better one.</param>
/// <param name="Section">The nav entry it belongs to.</param>
/// <param name="Preload">Further modules to preload (vendor bundles the page needs on first paint).</param>
internal sealed record UiPage(string Route, string Id, string Title, string Section, params string[] Preload);
