using System.Buffers;
using System.Collections;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Batching;
using Kiteflow.Core.Formats;
using Kiteflow.Core.Json;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Templating;

namespace Kiteflow.Core.Planning;

/// <summary>
/// The requests one input makes through one destination, computed lazily: each step of the
/// enumeration reads only as much input as the next request (or rejection) needs. Preview, the
/// endpoint test and delivery all consume this one plan. Enumerate once; dispose to close the input.
/// </summary>
public sealed class Plan : IEnumerable<PlanItem>, IDisposable
{
    private readonly Destination _destination;
    private readonly RecordReader _reader;
    private readonly Dictionary<string, UnknownField> _unknownFields = new(StringComparer.Ordinal);
    private readonly bool _keepText;
    private bool _enumerated;

    internal Plan(Destination destination, RecordReader reader)
    {
        _destination = destination;
        _reader = reader;
        _keepText = destination.Options.KeepRecordText;
    }

    /// <summary>Records read so far, bad ones included.</summary>
    public long RecordsRead { get; private set; }

    /// <summary>Requests planned so far.</summary>
    public long RequestsPlanned { get; private set; }

    /// <summary>How much of the input has been read, from 0 to 1; null when its size is unknown.</summary>
    public double? InputFraction => _reader.Fraction;

    /// <summary>Records rejected so far.</summary>
    public long RecordsRejected { get; private set; }

    /// <summary>The destination's warnings, and those found in the records read so far (unknown fields).</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            var warnings = new List<string>(_destination.Warnings);
            foreach (var (_, unknown) in _unknownFields)
            {
                var records = string.Join(", ", unknown.Positions) + (unknown.Count > unknown.Positions.Count ? ", …" : string.Empty);
                warnings.Add($"{unknown.Sentence} (record{(unknown.Count == 1 ? string.Empty : "s")} {records}{(unknown.Count > 1 ? $"; {unknown.Count:N0} in all" : string.Empty)})");
            }

            return warnings;
        }
    }

    /// <inheritdoc />
    public IEnumerator<PlanItem> GetEnumerator()
    {
        if (_enumerated)
        {
            throw new InvalidOperationException("A plan can be enumerated once.");
        }

        _enumerated = true;
        return Items().GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();

    private IEnumerable<PlanItem> Items()
    {
        var settings = _destination.Settings;
        var clock = new TemplateClock(_destination.Options.TimeProvider, settings.DateFormat, settings.DateUnit);
        var urlBuilder = new StringBuilder(256);
        var scratch = new StringBuilder(64);
        var shaped = new ArrayBufferWriter<byte>(4096);
        using var shapedWriter = new Utf8JsonWriter(shaped, MinimalJsonEncoder.CompactWriterOptions);
        var batching = settings.Batching.Enabled;
        var groups = new Dictionary<string, BatchGroup>(StringComparer.Ordinal);
        var oldest = new LinkedList<BatchGroup>();
        var bodies = batching ? new BatchBodyBuilder(settings.Batching, _destination.Script, settings.Name) : null;
        var batchIndex = 0L;
        var ready = new List<BatchGroup>();
        var spare = new Stack<BatchGroup>();  // sent groups, kept for their buffers
        var shaper = _destination.Shaper;
        var prefix = _destination.Options.DeliveryIdPrefix;

        foreach (var read in _reader)
        {
            RecordsRead++;
            if (read.Rejection is { } readRejection)
            {
                RecordsRejected++;
                yield return PlanItem.Of(readRejection);
                continue;
            }

            var record = read.Record!;
            PlanItem? single = null;
            ready.Clear();
            using (record)
            {
                urlBuilder.Clear();
                var problem = _destination.Url.Resolve(record.Value, clock, urlBuilder);
                var headerList = _destination.Headers.Count == 0 ? null : new List<KeyValuePair<string, string>>(_destination.Headers.Count);
                problem ??= headerList is null ? null : _destination.Headers.Resolve(record.Value, clock, headerList, scratch);
                var headers = (IReadOnlyList<KeyValuePair<string, string>>?)headerList ?? NoHeaders;
                if (problem is not null)
                {
                    single = Reject(record, RejectionStage.Template, problem);
                }
                else if (!batching)
                {
                    single = PlanSingle(record, urlBuilder.ToString(), headers, shaped, shapedWriter, prefix);
                }
                else
                {
                    var url = urlBuilder.ToString();
                    var key = headers.Count == 0 ? url : url + "\n" + string.Join("\n", headers.Select(h => h.Key + ":" + h.Value));
                    if (!groups.TryGetValue(key, out var group))
                    {
                        group = (spare.Count > 0 ? spare.Pop() : new BatchGroup()).Start(key, url, headers);
                        groups[key] = group;
                    }

                    var deliveryId = group.DeliveryId ?? (shaper.InjectsDeliveryId ? DeliveryIds.For(prefix, record.Position) : null);
                    Shape(record, deliveryId, shaped, shapedWriter);

                    var limit = settings.Batching.MaxBatchBytes;
                    if (bodies!.SizeOf(1, shaped.WrittenCount) > limit)
                    {
                        single = Reject(record, RejectionStage.Validate, $"The record makes a body of {bodies.SizeOf(1, shaped.WrittenCount):N0} bytes, more than batching.maxBatchBytes ({limit:N0}); raise the limit or leave large attributes out.");
                        if (group.Count == 0)
                        {
                            groups.Remove(key);
                        }
                    }
                    else
                    {
                        if (group.Count > 0 && bodies.SizeOf(group.Count + 1, group.RecordBytes + shaped.WrittenCount) > limit)
                        {
                            // The record would push the batch over the byte ceiling: send what is there first.
                            ready.Add(Detach(group, groups, oldest));
                            group = (spare.Count > 0 ? spare.Pop() : new BatchGroup()).Start(key, url, headers);
                            groups[key] = group;
                            deliveryId = shaper.InjectsDeliveryId ? DeliveryIds.For(prefix, record.Position) : null;
                            Shape(record, deliveryId, shaped, shapedWriter);
                        }

                        if (group.Count == 0)
                        {
                            group.DeliveryId = deliveryId;
                            group.Node = oldest.AddLast(group);
                        }

                        group.Add(record.Position, record.Line, shaped.WrittenSpan, record.Utf8Json, _keepText);
                        if (group.Count >= settings.Batching.BatchSize)
                        {
                            ready.Add(Detach(group, groups, oldest));
                        }
                        else if (groups.Count > _destination.Options.MaxOpenGroups && oldest.First is { } first)
                        {
                            ready.Add(Detach(first.Value, groups, oldest));
                        }
                    }
                }
            }

            if (single is { } item)
            {
                yield return item;
            }

            foreach (var group in ready)
            {
                foreach (var batchItem in EmitBatch(group, bodies!, batchIndex++))
                {
                    yield return batchItem;
                }

                group.Clear();
                spare.Push(group);
            }
        }

        // End of input: every open batch goes, oldest first.
        while (oldest.First is { } node)
        {
            var group = Detach(node.Value, groups, oldest);
            foreach (var batchItem in EmitBatch(group, bodies!, batchIndex++))
            {
                yield return batchItem;
            }
        }
    }

    private PlanItem PlanSingle(SourceRecord record, string url, IReadOnlyList<KeyValuePair<string, string>> headers, ArrayBufferWriter<byte> shaped, Utf8JsonWriter shapedWriter, string prefix)
    {
        if (_destination.ValidatesBodies && Validate(record) is { } problem)
        {
            return Reject(record, RejectionStage.Validate, problem);
        }

        var deliveryId = _destination.Shaper.InjectsDeliveryId ? DeliveryIds.For(prefix, record.Position) : null;
        byte[]? body = null;
        if (_destination.SendsBody)
        {
            Shape(record, deliveryId, shaped, shapedWriter);
            body = BodyFormats.Convert(_destination.Settings.ContentFormat, shaped.WrittenSpan);
        }

        var texts = _keepText ? RecordTexts.Of(record.Utf8Json) : null;
        RequestsPlanned++;
        return PlanItem.Of(new PlannedRequest(RequestsPlanned - 1, _destination.Settings.Method, url, headers, _destination.ContentType, body, body is not null && _destination.Settings.ContentFormat == ContentFormat.Json, [record.Position], deliveryId, texts, _keepText ? [record.Line] : null));
    }

    /// <summary>Writes the record as the body's object into <paramref name="shaped"/>, reusing one writer.</summary>
    private void Shape(SourceRecord record, string? deliveryId, ArrayBufferWriter<byte> shaped, Utf8JsonWriter writer)
    {
        shaped.ResetWrittenCount();
        writer.Reset(shaped);
        _destination.Shaper.Write(writer, record.Value, deliveryId);
        writer.Flush();
    }

    /// <summary>Checks the body against the endpoint; returns the rejection message, or null when it passes.</summary>
    private string? Validate(SourceRecord record)
    {
        // Judged as sent: excluded attributes count as absent. The delivery id differs from the record
        // too, but adding a meta_data string cannot make a body invalid.
        var check = _destination.Endpoint!.CheckBody(record.Value, _destination.Shaper.Exclusions);
        for (var i = 0; i < check.UnknownFields.Count; i++)
        {
            var path = check.UnknownFields[i];
            if (!_unknownFields.TryGetValue(path, out var field))
            {
                field = new UnknownField(check.Warnings[i]);
                _unknownFields[path] = field;
            }

            field.Add(record.Position);
        }

        if (check.IsValid)
        {
            return null;
        }

        return string.Join(" ", check.Errors.Select(e => e.Message));
    }

    private IEnumerable<PlanItem> EmitBatch(BatchGroup group, BatchBodyBuilder bodies, long batchIndex)
    {
        var (json, text, error) = bodies.Build(group, batchIndex);
        var texts = _keepText ? group.RecordTexts() : null;
        if (error is not null)
        {
            for (var i = 0; i < group.Positions.Count; i++)
            {
                RecordsRejected++;
                yield return PlanItem.Of(new Rejection(group.Positions[i], _keepText ? group.Lines[i] : null, RejectionStage.Script, $"The batching script failed: {error}")
                {
                    RecordJson = texts?[i],
                });
            }

            yield break;
        }

        var format = _destination.Settings.ContentFormat;
        var body = json is not null ? BodyFormats.Convert(format, json) : text!;
        RequestsPlanned++;
        yield return PlanItem.Of(new PlannedRequest(RequestsPlanned - 1, _destination.Settings.Method, group.Url, group.Headers, BodyFormats.ContentType(format), body, json is not null && format == ContentFormat.Json, [.. group.Positions], group.DeliveryId, texts, _keepText ? [.. group.Lines] : null));
    }

    private static BatchGroup Detach(BatchGroup group, Dictionary<string, BatchGroup> groups, LinkedList<BatchGroup> oldest)
    {
        groups.Remove(group.Key);
        if (group.Node is not null)
        {
            oldest.Remove(group.Node);
            group.Node = null;
        }

        return group;
    }

    private PlanItem Reject(SourceRecord record, RejectionStage stage, string message)
    {
        RecordsRejected++;
        return PlanItem.Of(new Rejection(record.Position, record.Line, stage, message) { RecordJson = Encoding.UTF8.GetString(record.Utf8Json) });
    }

    private static readonly IReadOnlyList<KeyValuePair<string, string>> NoHeaders = [];

    private sealed class UnknownField(string sentence)
    {
        public string Sentence { get; } = sentence;

        public List<long> Positions { get; } = [];

        public long Count { get; private set; }

        public void Add(long position)
        {
            Count++;
            if (Positions.Count < 5)
            {
                Positions.Add(position);
            }
        }
    }
}
