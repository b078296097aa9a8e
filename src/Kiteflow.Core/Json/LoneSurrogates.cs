using System.Globalization;
using System.Text.Json;

namespace Kiteflow.Core.Json;

/// <summary>
/// JSON lets a string escape half of a UTF-16 surrogate pair (<c>"\ud800"</c>): the text parses, but it
/// is no text at all, and reading the string (<see cref="JsonElement.GetString"/>, a property's name,
/// writing it out) throws. These helpers find such escapes before anything reads the strings.
/// </summary>
internal static class LoneSurrogates
{
    /// <summary>
    /// The offset of the first <c>\u</c> escape in <paramref name="json"/> that is half of a surrogate
    /// pair without its other half, or -1. <paramref name="json"/> must be valid JSON, whose escapes
    /// are then whole; the scan costs one vectorised search for a backslash when the text has none.
    /// </summary>
    public static int FindEscape(ReadOnlySpan<byte> json)
    {
        var pendingHigh = -1;
        var i = 0;
        while (true)
        {
            if (pendingHigh < 0)
            {
                var next = json[i..].IndexOf((byte)'\\');
                if (next < 0)
                {
                    return -1;
                }

                i += next;
            }
            else if (i >= json.Length || json[i] != (byte)'\\')
            {
                return pendingHigh;
            }

            // Valid JSON: a backslash always has the escaped character after it, and \u four hex digits.
            if (json[i + 1] != (byte)'u')
            {
                if (pendingHigh >= 0)
                {
                    return pendingHigh;
                }

                i += 2;
                continue;
            }

            var unit = (char)int.Parse(json.Slice(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (char.IsHighSurrogate(unit))
            {
                if (pendingHigh >= 0)
                {
                    return pendingHigh;
                }

                pendingHigh = i;
            }
            else if (char.IsLowSurrogate(unit))
            {
                if (pendingHigh < 0)
                {
                    return i;
                }

                pendingHigh = -1;
            }
            else if (pendingHigh >= 0)
            {
                return pendingHigh;
            }

            i += 6;
        }
    }

    /// <summary>
    /// Where in <paramref name="root"/> the strings that are not text are, in document order: each as its
    /// dotted path (<c>author.name</c>, <c>labels[2]</c>; "" for the root), and for a key that is not
    /// text, its 1-based number among the keys of the object at that path (0 for a value).
    /// </summary>
    public static List<(string Path, int KeyNumber)> Find(JsonElement root)
    {
        var found = new List<(string, int)>();
        Walk(root, string.Empty, found);
        return found;
    }

    /// <summary>One place <see cref="Find"/> returned, in words: <c>the attribute "author.name"</c>, <c>the 2nd attribute name in "author"</c>.</summary>
    public static string Describe((string Path, int KeyNumber) place, string noun)
    {
        if (place.KeyNumber == 0)
        {
            return place.Path.Length == 0 ? "the value" : $"the {noun} \"{place.Path}\"";
        }

        var ordinal = place.KeyNumber switch
        {
            1 => "first",
            2 => "second",
            3 => "third",
            var n => $"{n}th",
        };
        return place.Path.Length == 0 ? $"the {ordinal} {noun} name at the top level" : $"the {ordinal} {noun} name in \"{place.Path}\"";
    }

    private static void Walk(JsonElement element, string path, List<(string, int)> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var number = 0;
                foreach (var property in element.EnumerateObject())
                {
                    number++;
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        found.Add((path, number));
                        name = $"#{number}";
                    }

                    Walk(property.Value, path.Length == 0 ? name : $"{path}.{name}", found);
                }

                break;
            case JsonValueKind.Array:
                var item = 0;
                foreach (var value in element.EnumerateArray())
                {
                    Walk(value, $"{path}[{item++}]", found);
                }

                break;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    found.Add((path, 0));
                }

                break;
        }
    }
}
