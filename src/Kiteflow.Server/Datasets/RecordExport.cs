using System.Buffers;
using System.Text;
using System.Text.Json;
using Kiteflow.Storage;

namespace Kiteflow.Server.Datasets;

/// <summary>
/// Writes a dataset out page by page (constant memory): JSON Lines as stored, or CSV with one column per attribute
/// path of the stored schema that holds a value (dotted headers, which <c>kiteflow</c>'s CSV reader turns back into
/// nested objects; arrays and objects in a cell are their JSON text; null is an empty cell).
/// </summary>
internal static class RecordExport
{
    private const int PageSize = 1000;

    public static async Task JsonLinesAsync(IKiteflowStore store, DatasetRow dataset, Stream output, CancellationToken cancellationToken)
    {
        await foreach (var page in Pages(store, dataset, cancellationToken).ConfigureAwait(false))
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            foreach (var record in page)
            {
                buffer.Write(record.Json.Span);
                buffer.Write("\n"u8);
            }

            await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task CsvAsync(IKiteflowStore store, DatasetRow dataset, IReadOnlyList<SchemaPath> schema, Stream output, CancellationToken cancellationToken)
    {
        const JsonTypes valueTypes = JsonTypes.String | JsonTypes.Number | JsonTypes.Boolean | JsonTypes.Null | JsonTypes.Array;
        var columns = schema.Where(p => !p.Path.Contains("[]", StringComparison.Ordinal) && (p.Types & valueTypes) != 0).Select(p => p.Path).ToArray();
        var segments = columns.Select(c => c.Split('.')).ToArray();
        var text = new StringBuilder();
        text.AppendJoin(',', columns.Select(Quote)).Append('\n');
        await foreach (var page in Pages(store, dataset, cancellationToken).ConfigureAwait(false))
        {
            foreach (var record in page)
            {
                using var document = JsonDocument.Parse(record.Json);
                for (var i = 0; i < segments.Length; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    if (Find(document.RootElement, segments[i]) is { } value)
                    {
                        text.Append(Quote(Cell(value)));
                    }
                }

                text.Append('\n');
            }

            await output.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).ConfigureAwait(false);
            text.Clear();
        }

        if (text.Length > 0)
        {
            await output.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async IAsyncEnumerable<IReadOnlyList<StoredRecord>> Pages(IKiteflowStore store, DatasetRow dataset, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Up to the count seen when the export started: records appended meanwhile are left for the next export.
        var offset = 0L;
        while (offset < dataset.RecordCount)
        {
            var page = await store.Datasets.ReadAsync(dataset.Id, offset, (int)Math.Min(PageSize, dataset.RecordCount - offset), cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                yield break;
            }

            yield return page;
            offset = page[^1].Offset + 1;
        }
    }

    private static JsonElement? Find(JsonElement record, string[] path)
    {
        var current = record;
        foreach (var segment in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static string Cell(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null => string.Empty,
        _ => value.GetRawText(),
    };

    private static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}
