using System.Net;

namespace Kiteflow.Delivery.Sending;

/// <summary>The HTTP client delivery sends with.</summary>
internal static class DeliveryHttp
{
    /// <summary>
    /// A client for up to <paramref name="concurrency"/> requests at once. Redirects are not followed
    /// (a redirect must never carry the token to another host), no cookies are kept, and the client has
    /// no overall timeout: each attempt has its own.
    /// </summary>
    public static HttpClient Create(int concurrency, HttpMessageHandler? handler = null)
    {
        handler ??= CreateHandler(concurrency);
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("kiteflow/1.0");
        return client;
    }

    /// <summary>The connections of <see cref="Create"/>: no redirects, no cookies, up to <paramref name="concurrency"/> (+2) per server.</summary>
    public static SocketsHttpHandler CreateHandler(int concurrency) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        MaxConnectionsPerServer = concurrency + 2,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(15),
        AutomaticDecompression = DecompressionMethods.All,
    };
}
