using System.Text.Json;

namespace Kiteflow.Core.Templating;

/// <summary>Macro values looked up in a parsed record.</summary>
internal readonly struct ElementMacroValues(JsonElement record) : IMacroValues
{
    /// <inheritdoc />
    public MacroValue Find(Macro macro) => macro.TryFind(record, out var value) ? MacroValue.Of(value) : MacroValue.Missing;
}
