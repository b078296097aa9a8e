namespace Kiteflow.Core.Settings;

/// <summary>One thing wrong with a destination's settings.</summary>
/// <param name="Key">The setting's key as written in the destination file, dotted for nested keys (<c>batching.batchSize</c>).</param>
/// <param name="Message">What is wrong, with the bad value, and what to do.</param>
public sealed record SettingsProblem(string Key, string Message)
{
    /// <summary>The key of a problem with the file as a whole (unreadable, not JSON, not an object): nothing else in it can be judged.</summary>
    public const string FileKey = "(file)";

    /// <summary>
    /// Whether nothing more of the settings is judged after this problem (a token typed into them: another message
    /// could quote it). Problems with <see cref="FileKey"/> are always so.
    /// </summary>
    public bool Final { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Key}: {Message}";
}
