namespace Kiteflow.Sandbox.State;

/// <summary>Makes version-4 UUIDs and hex strings, from a seeded generator when the run must replay.</summary>
internal sealed class IdGenerator(int? seed)
{
    private readonly Lock _gate = new();
    private readonly Random? _random = seed is null ? null : new Random(seed.Value);

    public Guid NewGuid()
    {
        if (_random is null)
        {
            return Guid.NewGuid();
        }

        Span<byte> bytes = stackalloc byte[16];
        lock (_gate)
        {
            _random.NextBytes(bytes);
        }

        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }

    public string NewHex(int length)
    {
        var chars = new char[length];
        var source = NewGuid().ToString("N") + NewGuid().ToString("N") + NewGuid().ToString("N");
        for (var i = 0; i < length; i++)
        {
            chars[i] = source[i % source.Length];
        }

        return new string(chars);
    }
}
