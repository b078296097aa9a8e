using System.Net.Http.Headers;
using System.Threading.Channels;
using Polly;
using Polly.Retry;

namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// POSTs each response record to the destination's <c>responseWebhook.forwardUrl</c> (SPEC §2.7), from a
/// bounded queue so a slow receiver slows delivery rather than filling memory. The token is never sent
/// there: the records carry <c>Bearer ••••</c> and the request has no Authorization header. A record the
/// receiver keeps refusing after a few attempts is counted in <see cref="Failed"/>; the response records
/// file still holds it.
/// </summary>
internal sealed class ResponseForwarder : IAsyncDisposable
{
    private readonly Uri _url;
    private readonly HttpClient _client;
    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly Task _loop;
    private long _forwarded;
    private long _failed;

    public ResponseForwarder(Uri url, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _url = url;
        _client = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>()
                    .HandleResult(r => (int)r.StatusCode >= 500 || (int)r.StatusCode == 429),
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            })
            .Build();
        _loop = Task.Run(ForwardAllAsync);
    }

    /// <summary>Records the receiver accepted (2xx).</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Records the receiver did not accept after every attempt.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Queues one response record (its JSON); waits while the queue is full.</summary>
    public ValueTask EnqueueAsync(byte[] record, CancellationToken cancellationToken) => _queue.Writer.WriteAsync(record, cancellationToken);

    /// <summary>Sends what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _client.Dispose();
    }

    private async Task ForwardAllAsync()
    {
        await foreach (var record in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                using var response = await _retry.ExecuteAsync(async ct =>
                {
                    using var content = new ByteArrayContent(record);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    return await _client.PostAsync(_url, content, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _forwarded : ref _failed);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref _failed);
            }
        }
    }
}
