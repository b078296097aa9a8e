namespace Kiteflow.Core.Templating;

/// <summary>Splits template text into literal text and macros.</summary>
internal static class TemplateParts
{
    /// <summary>A piece of a template: literal text, or a macro.</summary>
    public readonly record struct Part(string? Literal, Macro? Macro);

    /// <summary>Splits <paramref name="text"/>; adds a message to <paramref name="errors"/> for each unbalanced brace or bad macro.</summary>
    public static List<Part> Split(string text, List<string> errors)
    {
        var parts = new List<Part>();
        var literalStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '}')
            {
                errors.Add($"a '}}' at character {i + 1} has no matching '{{'.");
                i++;
                continue;
            }

            if (c != '{')
            {
                i++;
                continue;
            }

            var close = text.IndexOf('}', i + 1);
            var nested = text.IndexOf('{', i + 1);
            if (close < 0 || (nested >= 0 && nested < close))
            {
                errors.Add($"the '{{' at character {i + 1} is not closed by a '}}'.");
                i++;
                continue;
            }

            if (i > literalStart)
            {
                parts.Add(new Part(text[literalStart..i], null));
            }

            var macro = Macro.Parse(text[(i + 1)..close], out var error);
            if (macro is null)
            {
                errors.Add(error!);
            }
            else
            {
                parts.Add(new Part(null, macro));
            }

            i = close + 1;
            literalStart = i;
        }

        if (literalStart < text.Length)
        {
            parts.Add(new Part(text[literalStart..], null));
        }

        return parts;
    }
}
