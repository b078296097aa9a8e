using System.Text;

namespace Kiteflow.Core.Templating;

/// <summary>Splits template text into literal text and macros.</summary>
internal static class TemplateParts
{
    /// <summary>A piece of a template: literal text, or a macro.</summary>
    public readonly record struct Part(string? Literal, Macro? Macro);

    /// <summary>Splits <paramref name="text"/>; adds a message to <paramref name="errors"/> for each unbalanced brace or bad macro.</summary>
    /// <param name="text">The template text.</param>
    /// <param name="errors">Where problems go, one message each.</param>
    /// <param name="braceEscapes">
    /// Whether <c>{{</c> and <c>}}</c> stand for a literal brace. Body templates take them (a Markdown
    /// annotation may well show code with braces); URLs and headers have no use for a literal brace.
    /// </param>
    public static List<Part> Split(string text, List<string> errors, bool braceEscapes = false)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (braceEscapes && c is '{' or '}' && i + 1 < text.Length && text[i + 1] == c)
            {
                literal.Append(c);
                i += 2;
                continue;
            }

            if (c == '}')
            {
                errors.Add($"a '}}' at character {i + 1} has no matching '{{'{(braceEscapes ? " (write }} for a literal brace)" : string.Empty)}.");
                i++;
                continue;
            }

            if (c != '{')
            {
                literal.Append(c);
                i++;
                continue;
            }

            var close = text.IndexOf('}', i + 1);
            var nested = text.IndexOf('{', i + 1);
            if (close < 0 || (nested >= 0 && nested < close))
            {
                errors.Add($"the '{{' at character {i + 1} is not closed by a '}}'{(braceEscapes ? " (write {{ for a literal brace)" : string.Empty)}.");
                i++;
                continue;
            }

            if (literal.Length > 0)
            {
                parts.Add(new Part(literal.ToString(), null));
                literal.Clear();
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
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(literal.ToString(), null));
        }

        return parts;
    }
}
