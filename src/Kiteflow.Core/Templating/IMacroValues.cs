namespace Kiteflow.Core.Templating;

/// <summary>Where templates find their macros' values: a parsed record, or the values captured while shaping it.</summary>
internal interface IMacroValues
{
    /// <summary>What the record holds at <paramref name="macro"/>'s attribute path (never called for a time macro).</summary>
    MacroValue Find(Macro macro);
}
