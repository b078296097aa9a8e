using System.Buffers;
using System.Text;

namespace Kiteflow.Core.Records;

/// <summary>
/// Reads a JSON array item by item without loading the whole file. A light structural scan finds
/// where each item ends (tracking strings and nesting), then the item alone is parsed strictly, so a
/// malformed item is rejected on its own and reading goes on with the next one.
/// </summary>
internal sealed class JsonArrayReader : RecordReader
{
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[],\n"u8);
    private static readonly SearchValues<byte> InString = SearchValues.Create("\"\\\n"u8);
    private readonly ByteInput _input;
    private readonly RecordParser _parser;
    private long _line = 1;
    private bool _endedInsideItem;

    public JsonArrayReader(Stream stream, ReaderLimits limits)
    {
        _input = new ByteInput(stream);
        Input = _input;
        _parser = new RecordParser(limits);
        Parser = _parser;
    }

    protected override IEnumerable<ReadResult> ReadItems()
    {
        SkipBom(_input);
        if (!SkipWhitespace())
        {
            yield break;  // an empty file holds no records
        }

        if (_input.Unconsumed[0] != (byte)'[')
        {
            throw new InputException($"Line {_line}: the input is not a JSON array (it starts with '{(char)_input.Unconsumed[0]}'); use a JSON array of objects, or JSON Lines (--format jsonl).");
        }

        _input.Start++;
        var position = 0L;
        var expectItem = true;
        while (true)
        {
            if (!SkipWhitespace())
            {
                if (_endedInsideItem)
                {
                    yield break;  // that item's rejection said the file ends inside it
                }

                // Every item seen was reported, but a file cut short (a copy or download that stopped) would
                // otherwise read as whole: say so, as for content after the closing ']'.
                yield return ReadResult.Of(new Rejection(position, _line, RejectionStage.Read,
                    "The file ends before the array's closing ']': it may have been cut short, so records after this point may be missing; check that the whole file is there."));
                yield break;
            }

            var next = _input.Unconsumed[0];
            if (next == (byte)']')
            {
                _input.Start++;
                if (SkipWhitespace())
                {
                    var line = _line;
                    _input.DiscardAll();
                    while (_input.Fill())
                    {
                        _input.DiscardAll();
                    }

                    yield return ReadResult.Of(new Rejection(position, line, RejectionStage.Read, "Content after the closing ']' of the array was ignored; the file should hold one JSON array."));
                }

                yield break;
            }

            if (next == (byte)',')
            {
                _input.Start++;
                if (!expectItem)
                {
                    expectItem = true;
                    continue;
                }

                // ",," or "[,": an empty item, which is malformed JSON.
                yield return ReadResult.Of(new Rejection(position++, _line, RejectionStage.Read, "Malformed JSON: an empty item between commas."));
                continue;
            }

            yield return ScanItem(position++);
            expectItem = false;
        }
    }

    /// <summary>Scans one item starting at the window's start and parses it.</summary>
    private ReadResult ScanItem(long position)
    {
        var startLine = _line;
        var depth = 0;
        var inString = false;
        var cursor = 0;
        var skip = default(SkipState);
        while (true)
        {
            var window = _input.Unconsumed;
            if (cursor >= window.Length)
            {
                if (_input.MakeRoom(ref skip, _parser.Limits.MaxRecordBytes))
                {
                    cursor = 0;
                }

                if (!_input.Fill())
                {
                    var length = skip.Skipped + _input.Unconsumed.Length;
                    var unfinished = skip.Active
                        ? _parser.Oversized(position, startLine, length)
                        : ReadResult.Of(new Rejection(position, startLine, RejectionStage.Read, "Malformed JSON: the file ends inside this record.")
                        {
                            OriginalText = Encoding.UTF8.GetString(_input.Unconsumed.TrimEnd(" \t\r\n"u8)),
                        });
                    _input.DiscardAll();
                    _endedInsideItem = true;
                    return unfinished;
                }

                continue;
            }

            var rest = window[cursor..];
            var hit = inString ? rest.IndexOfAny(InString) : rest.IndexOfAny(Structural);
            if (hit < 0)
            {
                cursor = window.Length;
                continue;
            }

            cursor += hit;
            var b = window[cursor];
            if (b == (byte)'\n')
            {
                _line++;
                cursor++;
                continue;
            }

            if (inString)
            {
                if (b == (byte)'\\')
                {
                    if (cursor + 1 >= window.Length)
                    {
                        // The escaped byte is not read yet: come back to the backslash after a fill.
                        if (!_input.Fill() && _input.Unconsumed.Length <= cursor + 1)
                        {
                            cursor = _input.Unconsumed.Length;
                        }

                        continue;
                    }

                    cursor += 2;
                    continue;
                }

                inString = false;
                cursor++;
                continue;
            }

            var itemEnd = -1;
            switch (b)
            {
                case (byte)'"':
                    inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    depth++;
                    break;
                case (byte)'}' or (byte)']':
                    if (depth == 0)
                    {
                        itemEnd = cursor;  // a scalar item closed by the array's ']'
                    }
                    else if (--depth == 0)
                    {
                        itemEnd = cursor + 1;
                    }

                    break;
                case (byte)',':
                    if (depth == 0)
                    {
                        itemEnd = cursor;
                    }

                    break;
            }

            if (itemEnd < 0)
            {
                cursor++;
                continue;
            }

            var item = window[..itemEnd].TrimEnd(" \t\r\n"u8);
            var total = skip.Skipped + itemEnd;
            var result = skip.Active || total > _parser.Limits.MaxRecordBytes
                ? _parser.Oversized(position, startLine, total)
                : _parser.Parse(item, position, startLine);
            _input.Start += itemEnd;
            _input.Trim();
            return result;
        }
    }

    /// <summary>Skips whitespace, counting lines. Returns false at the end of input.</summary>
    private bool SkipWhitespace()
    {
        while (true)
        {
            var window = _input.Unconsumed;
            var index = window.IndexOfAnyExcept(" \t\r\n"u8);
            _line += window[..(index < 0 ? window.Length : index)].Count((byte)'\n');
            if (index >= 0)
            {
                _input.Start += index;
                return true;
            }

            _input.DiscardAll();
            if (!_input.Fill())
            {
                return false;
            }
        }
    }

    protected override void DisposeInput() => _input.Dispose();
}
