namespace Kiteflow.Core.Records;

/// <summary>Reads JSON Lines: one object per line, blank lines skipped, each bad line rejected on its own.</summary>
internal sealed class JsonLinesReader : RecordReader
{
    private readonly ByteInput _input;
    private readonly RecordParser _parser;

    public JsonLinesReader(Stream stream, ReaderLimits limits)
    {
        _input = new ByteInput(stream);
        Input = _input;
        _parser = new RecordParser(limits);
        Parser = _parser;
    }

    /// <summary>The byte window, for a reader built on this one.</summary>
    internal ByteInput Window => _input;

    protected override IEnumerable<ReadResult> ReadItems()
    {
        var position = 0L;
        var line = 0L;
        var scanned = 0;  // relative to _input.Start: bytes already searched for a newline
        var skipping = false;  // inside a line that passed the record limit
        var skippedLength = 0L;
        long skipStartLine = 0;
        SkipBom(_input);

        while (true)
        {
            var window = _input.Unconsumed;
            var newline = window[scanned..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (skipping || window.Length > _parser.Limits.MaxRecordBytes)
                {
                    if (!skipping)
                    {
                        skipping = true;
                        skipStartLine = line + 1;
                        skippedLength = 0;
                    }

                    skippedLength += window.Length;
                    _input.DiscardAll();
                    scanned = 0;
                }
                else
                {
                    scanned = window.Length;
                }

                if (_input.Fill())
                {
                    continue;
                }

                // End of input: the last line has no newline.
                if (skipping)
                {
                    yield return _parser.Oversized(position++, skipStartLine, skippedLength);
                    yield break;
                }

                if (_input.Unconsumed.Length == 0)
                {
                    yield break;
                }

                line++;
                var last = TrimLine(_input.Unconsumed);
                _input.DiscardAll();
                if (!IsBlank(last))
                {
                    yield return _parser.Parse(last, position++, line);
                }

                yield break;
            }

            var end = scanned + newline;
            line++;
            if (skipping)
            {
                skippedLength += end;
                _input.Start += end + 1;
                scanned = 0;
                skipping = false;
                _input.Trim();
                yield return _parser.Oversized(position++, skipStartLine, skippedLength);
                continue;
            }

            var content = TrimLine(window[..end]);
            var result = IsBlank(content) ? default : _parser.Parse(content, position, line);
            _input.Start += end + 1;
            scanned = 0;
            if (result.Record is not null || result.Rejection is not null)
            {
                position++;
                yield return result;
            }
        }
    }

    private static ReadOnlySpan<byte> TrimLine(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private static bool IsBlank(ReadOnlySpan<byte> line) =>
        line.IndexOfAnyExcept((byte)' ', (byte)'\t', (byte)'\r') < 0;

    protected override void DisposeInput() => _input.Dispose();
}
