using System.Collections;
using System.Text;

namespace Kiteflow.Core.Planning;

/// <summary>
/// The original records' JSON, kept as UTF-8 bytes and decoded only when read: a run keeps every
/// record's text in case its request is refused, which is rare, so the common case pays a copy of
/// bytes rather than a string per record.
/// </summary>
internal sealed class RecordTexts : IReadOnlyList<string>
{
    private readonly byte[] _bytes;
    private readonly int[] _offsets;  // _offsets[i] .. _offsets[i + 1] is record i

    public RecordTexts(byte[] bytes, int[] offsets)
    {
        _bytes = bytes;
        _offsets = offsets;
    }

    public static RecordTexts Of(ReadOnlySpan<byte> record) => new(record.ToArray(), [0, record.Length]);

    public int Count => _offsets.Length - 1;

    public string this[int index] => Encoding.UTF8.GetString(_bytes, _offsets[index], _offsets[index + 1] - _offsets[index]);

    public IEnumerator<string> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
