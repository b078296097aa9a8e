namespace Kiteflow.Sandbox.Api;

/// <summary>The addresses written into responses: API links and Buildkite web pages.</summary>
internal sealed class Urls
{
    public const string Web = "https://buildkite.com";

    private string _apiBase = "https://api.buildkite.com";

    /// <summary>The API's origin, without <c>/v2</c> and without a trailing slash.</summary>
    public string ApiBase
    {
        get => Volatile.Read(ref _apiBase);
        set => Volatile.Write(ref _apiBase, value.TrimEnd('/'));
    }

    public string Api(string path) => $"{ApiBase}/v2{path}";

    public static string WebPage(string path) => $"{Web}{path}";
}
