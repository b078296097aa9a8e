using System.Text;

namespace Kiteflow.Sandbox.Api;

/// <summary>Slugs as Buildkite derives them from names.</summary>
internal static class Slugs
{
    public const int MaxLength = 100;

    /// <summary>
    /// Lower-cases the name and turns every run of characters other than ASCII letters and digits into one
    /// <c>-</c>, trimmed at both ends: "My Pipeline X" → <c>my-pipeline-x</c>. Cut at 100 characters.
    /// </summary>
    public static string FromName(string name)
    {
        var builder = new StringBuilder(name.Length);
        var dash = false;
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                if (dash && builder.Length > 0)
                {
                    builder.Append('-');
                }

                builder.Append(c);
                dash = false;
            }
            else
            {
                dash = true;
            }
        }

        var slug = builder.ToString();
        return slug.Length <= MaxLength ? slug : slug[..MaxLength].TrimEnd('-');
    }

    /// <summary>Whether a slug matches <c>^[a-zA-Z0-9]+[a-zA-Z0-9-]*$</c> and is at most 100 characters.</summary>
    public static bool IsValid(string slug) =>
        slug.Length is > 0 and <= MaxLength
        && char.IsAsciiLetterOrDigit(slug[0])
        && slug.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
