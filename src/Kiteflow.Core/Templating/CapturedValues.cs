namespace Kiteflow.Core.Templating;

/// <summary>The macro values captured from one record as it was shaped (<see cref="MacroCapture"/>); reused record after record.</summary>
internal sealed class CapturedValues(MacroCapture capture) : IMacroValues
{
    private readonly MacroValue[] _values = new MacroValue[capture.Slots];

    public MacroCapture Capture { get; } = capture;

    /// <summary>Forgets the last record's values: every path is missing until found.</summary>
    public void Clear() => Array.Clear(_values);

    /// <summary>Marks every path at or below <paramref name="node"/> missing (the name occurred again: the last occurrence counts).</summary>
    public void Reset(MacroCapture.Node node)
    {
        foreach (var slot in node.SlotsBelow)
        {
            _values[slot] = MacroValue.Missing;
        }
    }

    public void Set(int slot, MacroValue value) => _values[slot] = value;

    /// <inheritdoc />
    public MacroValue Find(Macro macro) => _values[Capture.SlotOf(macro)];
}
