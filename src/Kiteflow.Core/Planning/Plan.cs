using System.Buffers;
using System.Collections;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Kiteflow.Core.Batching;
using Kiteflow.Core.Formats;
using Kiteflow.Core.Json;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;
using Kiteflow.Core.Shaping;
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
    private readonly ExclusionUsage? _exclusions;
    private readonly bool _keepText;
    private bool _enumerated;
    private long _recordsFound;
    private volatile bool _inputEnded;

    internal Plan(Destination destination, RecordReader reader)
    {
        _destination = destination;
        _reader = reader;
        _keepText = destination.Options.KeepRecordText;

        // Excluded attributes matter only where a body is made from the record.
        _exclusions = destination.SendsBody ? ExclusionUsage.For(destination.Settings.ExcludeAttributes) : null;
    }

    /// <summary>Records read so far, bad ones included.</summary>
    public long RecordsRead { get; private set; }

    /// <summary>Requests planned so far.</summary>
    public long RequestsPlanned { get; private set; }

    /// <summary>How much of the input has been read, from 0 to 1; null when its size is unknown.</summary>
    /// <remarks>The reader runs ahead of planning: this goes with <see cref="RecordsFound"/>, not <see cref="RecordsRead"/>.</remarks>
    public double? InputFraction => _reader.Fraction;

    /// <summary>
    /// Records the reader has found so far, ahead of those planned (<see cref="RecordsRead"/>): once
    /// <see cref="InputEnded"/>, the number of records in the whole input.
    /// </summary>
    public long RecordsFound => Volatile.Read(ref _recordsFound);

    /// <summary>Whether the reader has reached the end of the input (so <see cref="RecordsFound"/> is the input's count).</summary>
    public bool InputEnded => _inputEnded;

    /// <summary>Records rejected so far.</summary>
    public long RecordsRejected { get; private set; }

    /// <summary>The destination's warnings, then <see cref="InputWarnings"/>.</summary>
    public IReadOnlyList<string> Warnings => [.. _destination.Warnings, .. InputWarnings];

    /// <summary>
    /// The warnings found in the records read so far: unknown fields, excluded attributes no record has,
    /// an input without records. Those about what no record has say so when only part of the input was read.
    /// </summary>
    public IReadOnlyList<string> InputWarnings
    {
        get
        {
            var warnings = new List<string>();
            if (_inputEnded && RecordsRead == 0)
            {
                warnings.Add("The input holds no records, so there is nothing to send; check that it is the right file or dataset.");
            }

            foreach (var (_, unknown) in _unknownFields)
            {
                var records = string.Join(", ", unknown.Positions) + (unknown.Count > unknown.Positions.Count ? ", …" : string.Empty);
                warnings.Add($"{unknown.Sentence} (record{(unknown.Count == 1 ? string.Empty : "s")} {records}{(unknown.Count > 1 ? $"; {unknown.Count:N0} in all" : string.Empty)})");
            }

            if (_exclusions is not null)
            {
                warnings.AddRange(_exclusions.Warnings(_inputEnded));
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
        var batching = settings.Batching.Enabled;
        var groups = new Dictionary<string, BatchGroup>(StringComparer.Ordinal);
        var oldest = new LinkedList<BatchGroup>();
        var bodies = batching ? new BatchBodyBuilder(settings.Batching, _destination.NewScript(), settings.Name) : null;
        var batchIndex = 0L;
        var ready = new List<BatchGroup>();
        var spare = new Stack<BatchGroup>();  // sent groups, kept for their buffers
        var injects = _destination.Shaper.InjectsDeliveryId;
        var prefix = _destination.Options.DeliveryIdPrefix;
        var limit = settings.Batching.MaxBatchBytes;

        foreach (var chunk in PreparedChunks())
        {
            NoteUnknownFields(chunk);
            for (var i = 0; i < chunk.Count; i++)
            {
                RecordsRead++;
                ref readonly var prepared = ref chunk.Items[i];
                if (prepared.Rejection is { } rejection)
                {
                    RecordsRejected++;
                    yield return PlanItem.Of(rejection);
                    continue;
                }

                var record = chunk.Reads[i].Record!;
                if (!batching)
                {
                    RequestsPlanned++;
                    yield return PlanItem.Of(new PlannedRequest(RequestsPlanned - 1, settings.Method, prepared.Url!, prepared.Headers!, _destination.ContentType, prepared.Body, prepared.Body is not null && settings.ContentFormat == ContentFormat.Json, [record.Position], prepared.DeliveryId, _keepText ? RecordTexts.Of(record.Utf8Json) : null, _keepText ? [record.Line] : null));
                    continue;
                }

                ready.Clear();
                var shaped = chunk.Shaped.WrittenSpan.Slice(prepared.ShapedOffset, prepared.ShapedLength);
                var key = prepared.GroupKey!;
                if (!groups.TryGetValue(key, out var group))
                {
                    group = Open(key, prepared.Url!, prepared.Headers!);
                }

                var deliveryId = group.DeliveryId ?? (injects ? DeliveryIds.For(prefix, record.Position) : null);
                var size = shaped.Length + (prepared.IdAt >= 0 ? deliveryId!.Length : 0);
                if (bodies!.SizeOf(1, size) > limit)
                {
                    if (group.Count == 0)
                    {
                        groups.Remove(key);
                    }

                    yield return Reject(record, RejectionStage.Validate, $"The record makes a body of {bodies.SizeOf(1, size):N0} bytes, more than batching.maxBatchBytes ({limit:N0}); raise the limit or leave large attributes out.");
                    continue;
                }

                if (group.Count > 0 && bodies.SizeOf(group.Count + 1, group.RecordBytes + size) > limit)
                {
                    // The record would push the batch over the byte ceiling: send what is there first.
                    ready.Add(Detach(group, groups, oldest));
                    group = Open(key, prepared.Url!, prepared.Headers!);
                    deliveryId = injects ? DeliveryIds.For(prefix, record.Position) : null;
                }

                if (group.Count == 0)
                {
                    group.DeliveryId = deliveryId;
                    group.Node = oldest.AddLast(group);
                }

                group.Add(record.Position, record.Line, shaped, prepared.IdAt, deliveryId, record.Utf8Json, _keepText);
                if (group.Count >= settings.Batching.BatchSize)
                {
                    ready.Add(Detach(group, groups, oldest));
                }
                else if (groups.Count > _destination.Options.MaxOpenGroups && oldest.First is { } first)
                {
                    ready.Add(Detach(first.Value, groups, oldest));
                }

                foreach (var full in ready)
                {
                    foreach (var batchItem in EmitBatch(full, bodies, batchIndex++))
                    {
                        yield return batchItem;
                    }

                    full.Clear();
                    spare.Push(full);
                }
            }
        }

        // End of input: every open batch goes, oldest first.
        _inputEnded = true;
        while (oldest.First is { } node)
        {
            var group = Detach(node.Value, groups, oldest);
            foreach (var batchItem in EmitBatch(group, bodies!, batchIndex++))
            {
                yield return batchItem;
            }
        }

        // A group for one URL and set of headers, reusing a sent one's buffers.
        BatchGroup Open(string key, string url, IReadOnlyList<KeyValuePair<string, string>> headers)
        {
            var group = (spare.TryPop(out var sent) ? sent : new BatchGroup()).Start(key, url, headers);
            groups[key] = group;
            return group;
        }
    }

    /// <summary>
    /// The input in chunks of records, each parsed, templated, checked and shaped (<see cref="Prepare"/>)
    /// on the thread pool while the enumerating thread batches the chunk before it, so the order of the
    /// dataset is kept. Chunks start small and grow, so a preview still reads only a little more input
    /// than its requests need; a chunk also stops at about 1 MiB of records, so memory stays bounded.
    /// </summary>
    private IEnumerable<Chunk> PreparedChunks()
    {
        var parallelism = _destination.PlanningThreads;
        _reader.DeferParsing();
        var clock = new TemplateClock(_destination.Options.TimeProvider, _destination.Settings.DateFormat, _destination.Settings.DateUnit);
        var pending = new Queue<(Chunk Chunk, Task? Work)>();
        var spare = new Stack<Chunk>();
        var size = 4;
        var more = true;
        Chunk? current = null;
        ExceptionDispatchInfo? failure = null;
        using var reads = _reader.GetEnumerator();
        try
        {
            while (true)
            {
                while (more && pending.Count < parallelism + 1)
                {
                    var chunk = spare.Count > 0 ? spare.Pop() : new Chunk { Values = new CapturedValues(_destination.Capture) };
                    var bytes = 0L;
                    while (chunk.Reads.Count < size && bytes < Chunk.MaxBytes && (more = Next(reads, ref failure)))
                    {
                        chunk.Reads.Add(reads.Current);
                        bytes += reads.Current.Record?.Utf8Length ?? 0;
                        Volatile.Write(ref _recordsFound, _recordsFound + 1);
                    }

                    _inputEnded = !more && failure is null;

                    if (chunk.Reads.Count == 0)
                    {
                        spare.Push(chunk);
                        break;
                    }

                    size = Math.Min(size * 2, Chunk.MaxRecords);
                    pending.Enqueue((chunk, parallelism == 1 ? null : Task.Run(() => Prepare(chunk, clock))));
                }

                if (!pending.TryDequeue(out var next))
                {
                    failure?.Throw();
                    yield break;
                }

                current = next.Chunk;
                if (next.Work is null)
                {
                    Prepare(current, clock);
                }
                else
                {
                    next.Work.GetAwaiter().GetResult();
                }

                yield return current;
                current.Recycle();
                spare.Push(current);
                current = null;
            }
        }
        finally
        {
            // Stopped early (a preview takes what it needs) or failed: let running work finish before
            // its records give their memory back.
            current?.Recycle();
            foreach (var (chunk, work) in pending)
            {
                try
                {
                    work?.GetAwaiter().GetResult();
                }
                catch (Exception)
                {
                    // Already stopping; the first failure is the one reported.
                }

                chunk.Recycle();
            }
        }
    }

    /// <summary>
    /// Reads the next item. An input that fails as a whole (say, a JSON array cut short) fails only
    /// once the records read before the failure have been planned, as when reading one at a time.
    /// </summary>
    private static bool Next(IEnumerator<ReadResult> reads, ref ExceptionDispatchInfo? failure)
    {
        try
        {
            return reads.MoveNext();
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
            return false;
        }
    }

    /// <summary>Everything about a chunk's records that does not depend on the records before them.</summary>
    private void Prepare(Chunk chunk, TemplateClock clock)
    {
        for (var i = 0; i < chunk.Count; i++)
        {
            ref var prepared = ref chunk.Items[i];
            prepared = default;
            PrepareItem(chunk, chunk.Reads[i], ref prepared, clock);

            // Batching needs only the record's bytes and position from here on.
            chunk.Reads[i].Record?.ReleaseValue();
        }
    }

    /// <summary>Parses, templates, checks and shapes one item.</summary>
    private void PrepareItem(Chunk chunk, ReadResult read, ref Prepared prepared, TemplateClock clock)
    {
        var settings = _destination.Settings;
        var shaper = _destination.Shaper;
        if (read.Rejection is { } readRejection)
        {
            prepared.Rejection = readRejection;
            return;
        }

        var record = read.Record!;
        if (_destination.BodyTemplate is null && !_destination.ValidatesBodies && PrepareStreamed(chunk, record, ref prepared, clock))
        {
            return;
        }

        if (record.Complete() is { } parseRejection)
        {
            prepared.Rejection = parseRejection;
            return;
        }

        if (_exclusions is not null)
        {
            _exclusions.Observe(record.Value, chunk.Exclusions ??= _exclusions.NewSightings());
        }

        chunk.Url.Clear();
        var problem = _destination.Url.Resolve(record.Value, clock, chunk.Url);
        var headerList = _destination.Headers.Count == 0 ? null : new List<KeyValuePair<string, string>>(_destination.Headers.Count);
        problem ??= headerList is null ? null : _destination.Headers.Resolve(record.Value, clock, headerList, chunk.Scratch);
        if (problem is not null)
        {
            prepared.Rejection = Rejected(record, RejectionStage.Template, problem);
            return;
        }

        prepared.Url = chunk.Url.ToString();
        prepared.Headers = (IReadOnlyList<KeyValuePair<string, string>>?)headerList ?? NoHeaders;
        if (_destination.BodyTemplate is { } template)
        {
            PrepareTemplated(chunk, record, template, ref prepared, clock);
            return;
        }

        if (!settings.Batching.Enabled)
        {
            if (_destination.ValidatesBodies && Validate(record.Value, _destination.Shaper.Exclusions, record.Position, chunk) is { } invalid)
            {
                prepared.Rejection = Rejected(record, RejectionStage.Validate, invalid);
                return;
            }

            prepared.DeliveryId = shaper.InjectsDeliveryId ? DeliveryIds.For(_destination.Options.DeliveryIdPrefix, record.Position) : null;
            if (_destination.SendsBody)
            {
                var (offset, length, _) = chunk.Shape(shaper, record.Utf8Json, prepared.DeliveryId, record.MaxDepth);
                prepared.Body = BodyFormats.Convert(settings.ContentFormat, chunk.Shaped.WrittenSpan.Slice(offset, length));
            }

            return;
        }

        prepared.GroupKey = GroupKey(prepared);

        // A batch's delivery id is its first record's, known only when batching: write an empty
        // one and let the batch splice its id in.
        (prepared.ShapedOffset, prepared.ShapedLength, prepared.IdAt) = chunk.Shape(shaper, record.Utf8Json, shaper.InjectsDeliveryId ? string.Empty : null, record.MaxDepth);
    }

    /// <summary>
    /// Prepares a record whose body is the record itself and is not checked against an endpoint, from one pass over
    /// its bytes: the shaper checks the JSON, writes the body and captures the URL's and headers' macro values as it
    /// goes, so no document is built. Returns false, having prepared nothing, when the record is not valid UTF-8 or
    /// not a well-formed JSON object: parsing it as a document then says exactly why, as for every other record.
    /// </summary>
    private bool PrepareStreamed(Chunk chunk, SourceRecord record, ref Prepared prepared, TemplateClock clock)
    {
        var bytes = record.Utf8Json;
        if (!Utf8.IsValid(bytes) || LoneSurrogates.FindEscape(bytes) >= 0)
        {
            // Half a surrogate pair is valid JSON but no string can be read from it: the document parse rejects it.
            return false;
        }

        var shaper = _destination.Shaper;
        var batching = _destination.Settings.Batching.Enabled;
        var deliveryId = !shaper.InjectsDeliveryId ? null : batching ? string.Empty : DeliveryIds.For(_destination.Options.DeliveryIdPrefix, record.Position);
        var offset = chunk.Shaped.WrittenCount;
        int idAt;
        try
        {
            if (!shaper.TryWrite(chunk.Shaped, bytes, deliveryId, record.MaxDepth, chunk.Values, out idAt))
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false;
        }

        // A rejected record's shaped bytes stay in the chunk's buffer unused until the chunk is recycled.
        var length = chunk.Shaped.WrittenCount - offset;
        chunk.Url.Clear();
        var problem = _destination.Url.Resolve(chunk.Values, clock, chunk.Url, out var url);
        var headerList = _destination.Headers.Count == 0 ? null : new List<KeyValuePair<string, string>>(_destination.Headers.Count);
        problem ??= headerList is null ? null : _destination.Headers.Resolve(chunk.Values, clock, headerList, chunk.Scratch);
        if (problem is not null)
        {
            prepared.Rejection = Rejected(record, RejectionStage.Template, problem);
            return true;
        }

        prepared.Url = url;
        prepared.Headers = (IReadOnlyList<KeyValuePair<string, string>>?)headerList ?? NoHeaders;
        if (!batching)
        {
            prepared.DeliveryId = deliveryId;
            if (_destination.SendsBody)
            {
                prepared.Body = BodyFormats.Convert(_destination.Settings.ContentFormat, chunk.Shaped.WrittenSpan.Slice(offset, length));
            }

            return true;
        }

        prepared.GroupKey = GroupKey(prepared);
        (prepared.ShapedOffset, prepared.ShapedLength, prepared.IdAt) = (offset, length, idAt);
        return true;
    }

    /// <summary>
    /// The body is the destination's template filled from the record (SPEC §2.5b). The filled body is
    /// then what is checked, gets the delivery id and is batched, exactly as a record would be.
    /// </summary>
    private void PrepareTemplated(Chunk chunk, SourceRecord record, BodyTemplate template, ref Prepared prepared, TemplateClock clock)
    {
        if (chunk.Fill(template, record.Value, clock) is { } problem)
        {
            prepared.Rejection = Rejected(record, RejectionStage.Template, problem);
            return;
        }

        var settings = _destination.Settings;
        var shaper = _destination.Shaper;
        var batching = settings.Batching.Enabled;
        if (_destination.ValidatesBodies || shaper.InjectsDeliveryId)
        {
            using var filled = JsonDocument.Parse(chunk.Filled.WrittenMemory, FilledBodyOptions);
            var body = filled.RootElement;
            if (_destination.ValidatesBodies && Validate(body, null, record.Position, chunk) is { } invalid)
            {
                prepared.Rejection = Rejected(record, RejectionStage.Validate, invalid);
                return;
            }

            if (shaper.InjectsDeliveryId)
            {
                if (body.ValueKind != JsonValueKind.Object)
                {
                    // Reached only when batching: one body per record is checked above, and a non-object fails there.
                    prepared.Rejection = Rejected(record, RejectionStage.Validate, $"{_destination.Endpoint!.Id} takes a JSON object, and the bodyTemplate made {RecordParser.KindName(body.ValueKind)} from this record.");
                    return;
                }

                if (!batching)
                {
                    prepared.DeliveryId = DeliveryIds.For(_destination.Options.DeliveryIdPrefix, record.Position);
                    var (offset, length, _) = chunk.Shape(shaper, chunk.Filled.WrittenSpan, prepared.DeliveryId, FilledBodyOptions.MaxDepth);
                    prepared.Body = BodyFormats.Convert(settings.ContentFormat, chunk.Shaped.WrittenSpan.Slice(offset, length));
                    return;
                }

                // As for records: the batch splices its delivery id in.
                prepared.GroupKey = GroupKey(prepared);
                (prepared.ShapedOffset, prepared.ShapedLength, prepared.IdAt) = chunk.Shape(shaper, chunk.Filled.WrittenSpan, string.Empty, FilledBodyOptions.MaxDepth);
                return;
            }
        }

        // Nothing to add: the filled bytes are the body.
        if (!batching)
        {
            prepared.Body = BodyFormats.Convert(settings.ContentFormat, chunk.Filled.WrittenSpan);
            return;
        }

        prepared.GroupKey = GroupKey(prepared);
        (prepared.ShapedOffset, prepared.ShapedLength) = chunk.Keep(chunk.Filled.WrittenSpan);
        prepared.IdAt = -1;
    }

    private static string GroupKey(in Prepared prepared) =>
        prepared.Headers!.Count == 0 ? prepared.Url! : prepared.Url + "\n" + string.Join("\n", prepared.Headers!.Select(h => h.Key + ":" + h.Value));

    /// <summary>Checks the body against the endpoint; returns the rejection message, or null when it passes.</summary>
    /// <param name="body">The record the body is shaped from, or the filled template.</param>
    /// <param name="excluded">Paths left out of <paramref name="body"/> when it is sent.</param>
    /// <param name="position">The record's position, for unknown-field warnings.</param>
    /// <param name="chunk">Where the unknown fields are noted.</param>
    private string? Validate(JsonElement body, Shaping.ExclusionTree? excluded, long position, Chunk chunk)
    {
        // Judged as sent: excluded attributes count as absent. The delivery id differs from the record
        // too, but adding a meta_data string cannot make a body invalid.
        var check = _destination.Endpoint!.CheckBody(body, excluded);
        for (var i = 0; i < check.UnknownFields.Count; i++)
        {
            chunk.UnknownFields.Add((check.UnknownFields[i], check.Warnings[i], position));
        }

        if (check.IsValid)
        {
            return null;
        }

        return string.Join(" ", check.Errors.Select(e => e.Message));
    }

    /// <summary>Adds what a chunk's records showed (unknown fields, excluded paths) to the plan's warnings, in dataset order.</summary>
    private void NoteUnknownFields(Chunk chunk)
    {
        if (chunk.Exclusions is { } sightings)
        {
            _exclusions!.Merge(sightings);
        }

        foreach (var (path, warning, position) in chunk.UnknownFields)
        {
            if (!_unknownFields.TryGetValue(path, out var field))
            {
                field = new UnknownField(warning);
                _unknownFields[path] = field;
            }

            field.Add(position);
        }
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
        return PlanItem.Of(Rejected(record, stage, message));
    }

    private static Rejection Rejected(SourceRecord record, RejectionStage stage, string message) =>
        new(record.Position, record.Line, stage, message) { RecordJson = Encoding.UTF8.GetString(record.Utf8Json) };

    private static readonly IReadOnlyList<KeyValuePair<string, string>> NoHeaders = [];

    // A filled body nests the template's depth and an attribute's (each at most 64).
    private static readonly JsonDocumentOptions FilledBodyOptions = new() { MaxDepth = 128 };

    /// <summary>A run of consecutive input items and what <see cref="Prepare"/> made of them; reused.</summary>
    private sealed class Chunk
    {
        public const int MaxRecords = 256;
        public const long MaxBytes = 1 << 20;

        private readonly Utf8JsonWriter _fillWriter = new(Stream.Null, MinimalJsonEncoder.CompactWriterOptions);
        private readonly ArrayBufferWriter<char> _text = new(256);

        public List<ReadResult> Reads { get; } = new(MaxRecords);

        public Prepared[] Items { get; } = new Prepared[MaxRecords];

        /// <summary>The shaped records, one after another (<see cref="Prepared.ShapedOffset"/>).</summary>
        public ArrayBufferWriter<byte> Shaped { get; } = new(64 * 1024);

        public StringBuilder Url { get; } = new(256);

        public StringBuilder Scratch { get; } = new(64);

        public List<(string Path, string Warning, long Position)> UnknownFields { get; } = [];

        /// <summary>What the chunk's records showed of the excluded paths; made on first use.</summary>
        public ExclusionSightings? Exclusions { get; set; }

        public int Count => Reads.Count;

        /// <summary>The current record's filled body template.</summary>
        public ArrayBufferWriter<byte> Filled { get; } = new(4 * 1024);

        /// <summary>The URL's and headers' macro values of the record being prepared.</summary>
        public required CapturedValues Values { get; init; }

        /// <summary>Appends the shaped object <paramref name="json"/> to <see cref="Shaped"/>: its offset, length, and where its delivery id starts (or -1).</summary>
        public (int Offset, int Length, int IdAt) Shape(BodyShaper shaper, ReadOnlySpan<byte> json, string? deliveryId, int maxDepth)
        {
            var offset = Shaped.WrittenCount;
            if (!shaper.TryWrite(Shaped, json, deliveryId, maxDepth, values: null, out var idAt))
            {
                throw new InvalidOperationException("Only a JSON object is shaped.");  // checked before
            }

            return (offset, Shaped.WrittenCount - offset, idAt);
        }

        /// <summary>Fills <paramref name="template"/> from <paramref name="record"/> into <see cref="Filled"/>; returns why it cannot be, or null.</summary>
        public string? Fill(BodyTemplate template, JsonElement record, TemplateClock clock)
        {
            Filled.ResetWrittenCount();
            _fillWriter.Reset(Filled);
            var problem = template.Write(_fillWriter, record, clock, _text);
            if (problem is null)
            {
                _fillWriter.Flush();
            }

            return problem;
        }

        /// <summary>Appends bytes that are already the body to <see cref="Shaped"/>: their offset and length there.</summary>
        public (int Offset, int Length) Keep(ReadOnlySpan<byte> body)
        {
            var offset = Shaped.WrittenCount;
            Shaped.Write(body);
            return (offset, body.Length);
        }

        /// <summary>Gives the records' memory back and empties the chunk for reuse.</summary>
        public void Recycle()
        {
            foreach (var read in Reads)
            {
                read.Record?.Dispose();
            }

            Reads.Clear();
            UnknownFields.Clear();
            Shaped.ResetWrittenCount();
        }
    }

    /// <summary>One item of a chunk, prepared: a rejection, or what its request or batch needs.</summary>
    private struct Prepared
    {
        public Rejection? Rejection;
        public string? Url;
        public IReadOnlyList<KeyValuePair<string, string>>? Headers;
        public byte[]? Body;          // one record per request: the body as sent
        public string? DeliveryId;    // one record per request
        public string? GroupKey;      // batching: the URL and headers, as one key
        public int ShapedOffset;      // batching: the shaped record within Chunk.Shaped
        public int ShapedLength;
        public int IdAt;              // batching: where the batch's delivery id goes, -1 for none
    }

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
