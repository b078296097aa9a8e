namespace Kiteflow.Core.Catalog;

/// <summary>A rule a string value must follow beyond its type, checked on its UTF-8 bytes without allocating.</summary>
internal sealed class StringFormat
{
    private readonly Utf8Rule _rule;

    private StringFormat(string name, string description, Utf8Rule rule)
    {
        Name = name;
        Description = description;
        _rule = rule;
    }

    public delegate bool Utf8Rule(ReadOnlySpan<byte> utf8);

    /// <summary>A short name for documentation, e.g. "slug".</summary>
    public string Name { get; }

    /// <summary>What a valid value looks like, phrased to follow "use ...".</summary>
    public string Description { get; }

    /// <summary>
    /// A pipeline slug: <c>^[a-zA-Z0-9]+[a-zA-Z0-9-]*$</c>, i.e. ASCII letters, digits and hyphens, not starting
    /// with a hyphen (Buildkite's pattern; the length limit is a separate check).
    /// </summary>
    public static StringFormat Slug { get; } = new(
        "slug",
        "ASCII letters, digits and hyphens, starting with a letter or digit (^[a-zA-Z0-9]+[a-zA-Z0-9-]*$)",
        static utf8 =>
        {
            if (utf8.IsEmpty || utf8[0] == (byte)'-')
            {
                return false;
            }

            foreach (var b in utf8)
            {
                if (!(char.IsAsciiLetterOrDigit((char)b) || b == (byte)'-'))
                {
                    return false;
                }
            }

            return true;
        });

    public bool IsValid(ReadOnlySpan<byte> utf8) => _rule(utf8);
}
