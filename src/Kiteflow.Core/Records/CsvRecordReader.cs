using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Kiteflow.Core.Json;

namespace Kiteflow.Core.Records;

/// <summary>
/// Reads CSV (RFC 4180: a header row, commas, quoted cells that may hold commas, quotes as "" and
/// newlines) into JSON records. Hand-written rather than CsvHelper because it works on the raw
/// UTF-8 bytes: an invalid byte sequence, an over-long row or a row with the wrong number of cells
/// rejects only that row, with the line it starts on. A TextReader-based parser decodes the file in
/// blocks ahead of parsing, so it can neither tie a bad byte to its row nor keep reading past it.
/// Typing: unquoted <c>true</c>/<c>false</c> become booleans and unquoted integers and decimals
/// without leading zeros become numbers (their text kept exactly); an empty cell leaves the
/// attribute out; a quoted cell is always a string, which is how to keep "007" or "true" as text.
/// </summary>
internal sealed class CsvRecordReader : RecordReader
{
    private readonly ByteInput _input;
    private readonly RecordParser _parser;
    private readonly List<Cell> _cells = [];
    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly ArrayBufferWriter<byte> _unescaped = new(256);
    private long _line = 1;

    public CsvRecordReader(Stream stream, ReaderLimits limits)
    {
        _input = new ByteInput(stream);
        Input = _input;
        _parser = new RecordParser(limits);
        Parser = _parser;
    }

    private enum RowStatus
    {
        Row,
        End,
        Oversized,
        Unterminated,
        Malformed,
    }

    protected override IEnumerable<ReadResult> ReadItems()
    {
        SkipBom(_input);
        HeaderNode? header = null;
        int columns = 0;
        var position = 0L;
        while (true)
        {
            var startLine = _line;
            var status = ReadRow(out var rowLength, out var skipped);
            if (status == RowStatus.End)
            {
                yield break;
            }

            if (header is null)
            {
                if (status != RowStatus.Row)
                {
                    throw new InputException($"Line {startLine}: the CSV header row cannot be read ({Describe(status, skipped)}).");
                }

                if (IsBlankRow(rowLength))
                {
                    Consume(rowLength);
                    continue;
                }

                var row = _input.Unconsumed[..rowLength];
                if (!Utf8.IsValid(row))
                {
                    throw new InputException($"Line {startLine}: the CSV header row is not valid UTF-8; save the file as UTF-8.");
                }

                columns = _cells.Count;
                header = HeaderNode.Build(HeaderNames(row), startLine);
                Consume(rowLength);
                continue;
            }

            if (status == RowStatus.Row && IsBlankRow(rowLength))
            {
                Consume(rowLength);
                continue;
            }

            ReadResult result;
            if (status != RowStatus.Row)
            {
                result = ReadResult.Of(new Rejection(position, startLine, RejectionStage.Read, Describe(status, skipped)) { OriginalText = RowText(rowLength) });
            }
            else if (_cells.Count != columns)
            {
                result = ReadResult.Of(new Rejection(position, startLine, RejectionStage.Read,
                    $"The row has {_cells.Count} cells but the header has {columns}; quote cells that contain commas (\"a, b\") and check for missing or extra cells.")
                {
                    OriginalText = RowText(rowLength),
                });
            }
            else
            {
                var row = _input.Unconsumed[..rowLength];
                result = Utf8.IsValid(row)
                    ? _parser.Parse(BuildJson(row, header), position, startLine)
                    : ReadResult.Of(RecordParser.InvalidUtf8(row, position, startLine));
            }

            Consume(rowLength);
            position++;
            yield return result;
        }
    }

    /// <summary>A refused row's text without its line break, for the rejected output; null when the row was skipped unread.</summary>
    private string? RowText(int rowLength) =>
        rowLength > 0 ? Encoding.UTF8.GetString(_input.Unconsumed[..Math.Min(rowLength, _input.Unconsumed.Length)].TrimEnd("\r\n"u8)) : null;

    private void Consume(int rowLength)
    {
        _input.Start += Math.Min(rowLength, _input.Unconsumed.Length);
        _input.Trim();
    }

    private bool IsBlankRow(int rowLength) =>
        _cells.Count == 1 && !_cells[0].Quoted && _input.Unconsumed[.._cells[0].Length].IndexOfAnyExcept(" \t\r"u8) < 0 && rowLength >= 0;

    /// <summary>Why a row that is not <see cref="RowStatus.Row"/> cannot be read.</summary>
    private string Describe(RowStatus status, long skipped) => status switch
    {
        RowStatus.Oversized => $"The row is larger than {_parser.Limits.MaxRecordBytes / (1024 * 1024)} MiB ({skipped:N0} bytes or more) and was skipped; check for an unclosed quote or split the row.",
        RowStatus.Unterminated => "The file ends inside a quoted cell; close the quote (a quote inside a cell is written \"\").",
        _ => "A quoted cell has text after its closing quote; quote the whole cell and write quotes inside it as \"\".",
    };

    /// <summary>
    /// Finds the next row at the window's start and records its cells in <see cref="_cells"/>.
    /// <paramref name="rowLength"/> includes the line break. Lines are counted as the row is scanned.
    /// </summary>
    private RowStatus ReadRow(out int rowLength, out long skipped)
    {
        _cells.Clear();
        skipped = 0;
        rowLength = 0;
        var cursor = 0;
        var cellStart = 0;
        var quoted = false;      // the current cell started with a quote
        var inQuotes = false;    // inside the quoted part of the cell
        var afterQuote = false;  // just after a closing quote (or the first of a "" pair)
        var escapes = false;     // the quoted cell holds "" pairs
        var malformed = false;
        var skip = default(SkipState);
        while (true)
        {
            var window = _input.Unconsumed;
            if (cursor >= window.Length)
            {
                if (_input.MakeRoom(ref skip, _parser.Limits.MaxRecordBytes))
                {
                    cursor = 0;
                    cellStart = 0;
                }

                if (_input.Fill())
                {
                    continue;
                }

                // End of input. Fill may have moved the bytes: take the window again.
                window = _input.Unconsumed;
                if (skip.Active)
                {
                    skipped = skip.Skipped;
                    return RowStatus.Oversized;
                }

                if (window.Length == 0 && _cells.Count == 0)
                {
                    return RowStatus.End;
                }

                if (inQuotes && !afterQuote)
                {
                    rowLength = window.Length;
                    return RowStatus.Unterminated;
                }

                AddCell(cellStart, window.Length, quoted, escapes, window);
                rowLength = window.Length;
                return malformed ? RowStatus.Malformed : RowStatus.Row;
            }

            if (inQuotes && !afterQuote)
            {
                var hit = window[cursor..].IndexOfAny((byte)'"', (byte)'\n');
                if (hit < 0)
                {
                    cursor = window.Length;
                    continue;
                }

                cursor += hit;
                if (window[cursor] == (byte)'\n')
                {
                    _line++;
                    cursor++;
                    continue;
                }

                afterQuote = true;
                cursor++;
                continue;
            }

            var b = window[cursor];
            if (afterQuote)
            {
                afterQuote = false;
                if (b == (byte)'"')
                {
                    escapes = true;  // "" inside a quoted cell
                    cursor++;
                    continue;
                }

                inQuotes = false;
                if (b != (byte)',' && b != (byte)'\n' && b != (byte)'\r')
                {
                    malformed = true;
                }
            }

            if (b == (byte)',')
            {
                AddCell(cellStart, cursor, quoted, escapes, window);
                cursor++;
                cellStart = cursor;
                quoted = inQuotes = escapes = false;
                continue;
            }

            if (b == (byte)'\n')
            {
                var end = cursor > cellStart && window[cursor - 1] == (byte)'\r' ? cursor - 1 : cursor;
                AddCell(cellStart, end, quoted, escapes, window);
                _line++;
                rowLength = cursor + 1;
                if (skip.Active)
                {
                    skipped = skip.Skipped + rowLength;
                    _input.Start += rowLength;
                    rowLength = 0;
                    return RowStatus.Oversized;
                }

                return malformed ? RowStatus.Malformed : RowStatus.Row;
            }

            if (b == (byte)'"' && cursor == cellStart && !quoted)
            {
                quoted = inQuotes = true;
            }

            cursor++;
        }
    }

    private void AddCell(int start, int end, bool quoted, bool escapes, ReadOnlySpan<byte> window)
    {
        if (quoted)
        {
            // Drop the surrounding quotes; a trailing \r after the closing quote was cut by the caller.
            var inner = window[start..end];
            var close = inner.LastIndexOf((byte)'"');
            _cells.Add(new Cell(start + 1, Math.Max(0, close - 1), Quoted: true, escapes));
            return;
        }

        _cells.Add(new Cell(start, end - start, Quoted: false, Escapes: false));
    }

    private List<string> HeaderNames(ReadOnlySpan<byte> row)
    {
        var names = new List<string>(_cells.Count);
        foreach (var cell in _cells)
        {
            names.Add(Encoding.UTF8.GetString(CellText(row, cell)).Trim());
        }

        return names;
    }

    private ReadOnlySpan<byte> CellText(ReadOnlySpan<byte> row, Cell cell)
    {
        var raw = row.Slice(cell.Start, cell.Length);
        if (!cell.Escapes)
        {
            return raw;
        }

        _unescaped.ResetWrittenCount();
        var span = _unescaped.GetSpan(raw.Length);
        var written = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            span[written++] = raw[i];
            if (raw[i] == (byte)'"' && i + 1 < raw.Length && raw[i + 1] == (byte)'"')
            {
                i++;
            }
        }

        _unescaped.Advance(written);
        return _unescaped.WrittenSpan;
    }

    private ReadOnlySpan<byte> BuildJson(ReadOnlySpan<byte> row, HeaderNode header)
    {
        _json.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_json, MinimalJsonEncoder.CompactWriterOptions))
        {
            WriteObject(writer, row, header);
        }

        return _json.WrittenSpan;
    }

    private void WriteObject(Utf8JsonWriter writer, ReadOnlySpan<byte> row, HeaderNode node)
    {
        writer.WriteStartObject();
        foreach (var child in node.Children)
        {
            if (child.Column >= 0)
            {
                var cell = _cells[child.Column];
                if (cell.Length == 0)
                {
                    continue;  // an empty cell leaves the attribute out
                }

                writer.WritePropertyName(child.EncodedName);
                WriteValue(writer, CellText(row, cell), cell.Quoted);
            }
            else if (HasValue(child))
            {
                writer.WritePropertyName(child.EncodedName);
                WriteObject(writer, row, child);
            }
        }

        writer.WriteEndObject();
    }

    private bool HasValue(HeaderNode node)
    {
        foreach (var child in node.Children)
        {
            if (child.Column >= 0 ? _cells[child.Column].Length > 0 : HasValue(child))
            {
                return true;
            }
        }

        return false;
    }

    private static void WriteValue(Utf8JsonWriter writer, ReadOnlySpan<byte> text, bool quoted)
    {
        if (!quoted)
        {
            if (text.SequenceEqual("true"u8))
            {
                writer.WriteBooleanValue(true);
                return;
            }

            if (text.SequenceEqual("false"u8))
            {
                writer.WriteBooleanValue(false);
                return;
            }

            if (IsPlainNumber(text))
            {
                writer.WriteRawValue(text, skipInputValidation: true);
                return;
            }
        }

        writer.WriteStringValue(text);
    }

    /// <summary>An integer or decimal without leading zeros or exponent: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?</c>.</summary>
    internal static bool IsPlainNumber(ReadOnlySpan<byte> text)
    {
        var i = 0;
        if (i < text.Length && text[i] == (byte)'-')
        {
            i++;
        }

        if (i >= text.Length || !char.IsAsciiDigit((char)text[i]))
        {
            return false;
        }

        if (text[i] == (byte)'0')
        {
            i++;
        }
        else
        {
            while (i < text.Length && char.IsAsciiDigit((char)text[i]))
            {
                i++;
            }
        }

        if (i < text.Length && text[i] == (byte)'.')
        {
            i++;
            var digits = i;
            while (i < text.Length && char.IsAsciiDigit((char)text[i]))
            {
                i++;
            }

            if (i == digits)
            {
                return false;
            }
        }

        return i == text.Length;
    }

    protected override void DisposeInput() => _input.Dispose();

    private readonly record struct Cell(int Start, int Length, bool Quoted, bool Escapes);

    /// <summary>The header as a tree: <c>author.name</c> and <c>author.email</c> share the node <c>author</c>.</summary>
    private sealed class HeaderNode
    {
        private HeaderNode(string name, int column)
        {
            Name = name;
            Column = column;
            EncodedName = JsonEncodedText.Encode(name, MinimalJsonEncoder.Instance);
        }

        public string Name { get; }

        public JsonEncodedText EncodedName { get; }

        /// <summary>The column of a leaf; -1 for an object node.</summary>
        public int Column { get; }

        public List<HeaderNode> Children { get; } = [];

        public static HeaderNode Build(List<string> names, long line)
        {
            var root = new HeaderNode(string.Empty, -1);
            for (var column = 0; column < names.Count; column++)
            {
                var name = names[column];
                var parts = name.Split('.');
                if (name.Length == 0 || Array.Exists(parts, p => p.Length == 0))
                {
                    throw new InputException($"Line {line}: header {column + 1} ('{name}') is empty or has an empty part between dots; give every column a name such as 'author.email'.");
                }

                var node = root;
                for (var i = 0; i < parts.Length; i++)
                {
                    var last = i == parts.Length - 1;
                    var existing = node.Children.Find(c => c.Name == parts[i]);
                    if (existing is not null && (last || existing.Column >= 0))
                    {
                        throw new InputException($"Line {line}: header '{name}' clashes with another column for '{string.Join('.', parts[..(i + 1)])}'; a column cannot be both a value and an object, or appear twice.");
                    }

                    if (existing is null)
                    {
                        existing = new HeaderNode(parts[i], last ? column : -1);
                        node.Children.Add(existing);
                    }

                    node = existing;
                }
            }

            return root;
        }
    }
}
