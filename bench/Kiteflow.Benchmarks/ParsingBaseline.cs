using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Kiteflow.Core.Json;

namespace Kiteflow.Benchmarks;

/// <summary>
/// The delivery benchmark's second baseline (issue 12), as its own process: what any tool that reads its records
/// must do, and no more. It reads each line, parses it with <see cref="Utf8JsonReader"/>, takes <c>org</c> and
/// <c>pipeline</c> out (they make the URL, as kiteflow's macros do), writes the rest with
/// <see cref="Utf8JsonWriter"/> (into the <c>{"builds":[…]}</c> wrapper, a batch per URL, when batching) and POSTs
/// with the same concurrency as kiteflow. Shaping runs on one thread, sending on <c>concurrency</c> tasks fed
/// through a bounded channel. No catalog check, no delivery id, no ledger, no retries.
/// </summary>
internal static class ParsingBaseline
{
    private static readonly byte[] Org = "org"u8.ToArray();
    private static readonly byte[] Pipeline = "pipeline"u8.ToArray();

    /// <summary>baseline-parse INPUT API-BASE BATCH-SIZE (0: one record per request, no wrapper) CONCURRENCY TOKEN.</summary>
    public static int Run(string[] args)
    {
        var input = args[0];
        var apiBase = args[1].TrimEnd('/');
        var batchSize = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        var concurrency = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        var token = args[4];
        var bodies = Channel.CreateBounded<(string Url, byte[] Body)>(new BoundedChannelOptions(concurrency * 4) { SingleWriter = true });
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency + 2 });
        var senders = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            await foreach (var (url, body) in bodies.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await client.SendAsync(request).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
            }
        })).ToArray();

        var groups = new Dictionary<string, Batch>(StringComparer.Ordinal);
        var record = new ArrayBufferWriter<byte>(1024);
        using var recordWriter = new Utf8JsonWriter(record, MinimalJsonEncoder.CompactWriterOptions);
        foreach (var line in Lines(input))
        {
            record.ResetWrittenCount();
            recordWriter.Reset(record);
            var (org, pipeline) = Shape(line.Span, recordWriter);
            recordWriter.Flush();
            var url = $"{apiBase}/v2/organizations/{Uri.EscapeDataString(org)}/pipelines/{Uri.EscapeDataString(pipeline)}/builds";
            if (batchSize == 0)
            {
                Post(bodies, url, record.WrittenSpan.ToArray());
                continue;
            }

            if (!groups.TryGetValue(url, out var batch))
            {
                groups[url] = batch = new Batch();
            }

            if (batch.Add(record.WrittenSpan) >= batchSize)
            {
                Post(bodies, url, batch.Take());
            }
        }

        foreach (var (url, batch) in groups)
        {
            if (batch.Count > 0)
            {
                Post(bodies, url, batch.Take());
            }
        }

        bodies.Writer.Complete();
        Task.WaitAll(senders);
        return 0;
    }

    private static void Post(Channel<(string Url, byte[] Body)> bodies, string url, byte[] body)
    {
        if (!bodies.Writer.TryWrite((url, body)))
        {
            bodies.Writer.WriteAsync((url, body)).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Copies the record to <paramref name="writer"/> without its org and pipeline, and returns those two.</summary>
    private static (string Org, string Pipeline) Shape(ReadOnlySpan<byte> line, Utf8JsonWriter writer)
    {
        var reader = new Utf8JsonReader(line);
        string org = string.Empty, pipeline = string.Empty;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName when reader.CurrentDepth == 1 && (reader.ValueTextEquals(Org) || reader.ValueTextEquals(Pipeline)):
                    var isOrg = reader.ValueTextEquals(Org);
                    reader.Read();
                    var value = reader.TokenType == JsonTokenType.String ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan);
                    (org, pipeline) = isOrg ? (value, pipeline) : (org, value);
                    break;
                case JsonTokenType.PropertyName:
                    if (reader.ValueIsEscaped)
                    {
                        writer.WritePropertyName(reader.GetString()!);
                    }
                    else
                    {
                        writer.WritePropertyName(reader.ValueSpan);
                    }

                    break;
                case JsonTokenType.String:
                    if (reader.ValueIsEscaped)
                    {
                        writer.WriteStringValue(reader.GetString());
                    }
                    else
                    {
                        writer.WriteStringValue(reader.ValueSpan);
                    }

                    break;
                case JsonTokenType.Number:
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True or JsonTokenType.False:
                    writer.WriteBooleanValue(reader.TokenType == JsonTokenType.True);
                    break;
                case JsonTokenType.Null:
                    writer.WriteNullValue();
                    break;
                case JsonTokenType.StartObject:
                    writer.WriteStartObject();
                    break;
                case JsonTokenType.EndObject:
                    writer.WriteEndObject();
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteStartArray();
                    break;
                case JsonTokenType.EndArray:
                    writer.WriteEndArray();
                    break;
            }
        }

        return (org, pipeline);
    }

    /// <summary>The input's lines, each a slice of a reused buffer valid until the next.</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        int start = 0, end = 0;
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                if (newline > 0)
                {
                    yield return buffer.AsMemory(start, newline);
                }

                start += newline + 1;
                continue;
            }

            // Keep the partial line, make room and read more.
            if (start > 0)
            {
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                if (end > start)
                {
                    yield return buffer.AsMemory(start, end - start);
                }

                yield break;
            }

            end += read;
        }
    }

    /// <summary>One URL's records waiting for their request, written into the wrapper as they come.</summary>
    private sealed class Batch
    {
        private readonly ArrayBufferWriter<byte> _body = new(64 * 1024);
        private readonly Utf8JsonWriter _writer;

        public Batch() => _writer = new Utf8JsonWriter(_body, MinimalJsonEncoder.CompactWriterOptions);

        public int Count { get; private set; }

        public int Add(ReadOnlySpan<byte> record)
        {
            if (Count == 0)
            {
                _writer.WriteStartObject();
                _writer.WriteStartArray("builds"u8);
            }

            _writer.WriteRawValue(record, skipInputValidation: true);
            return ++Count;
        }

        public byte[] Take()
        {
            _writer.WriteEndArray();
            _writer.WriteEndObject();
            _writer.Flush();
            var body = _body.WrittenSpan.ToArray();
            _body.ResetWrittenCount();
            _writer.Reset(_body);
            Count = 0;
            return body;
        }
    }
}
