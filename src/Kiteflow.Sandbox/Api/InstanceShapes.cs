using System.Globalization;
using System.Text.RegularExpressions;

namespace Kiteflow.Sandbox.Api;

internal sealed record InstanceShape(string MachineType, string Architecture, int Cpu, int Memory);

/// <summary>Hosted-agent instance shapes, named like <c>LINUX_AMD64_2X4</c> or <c>MACOS_ARM64_M4_6X28</c>.</summary>
internal static partial class InstanceShapes
{
    public static InstanceShape? Parse(string name)
    {
        var match = Shape().Match(name);
        if (!match.Success)
        {
            return null;
        }

        return new InstanceShape(
            match.Groups["os"].Value.ToLowerInvariant(),
            match.Groups["arch"].Value.ToLowerInvariant(),
            int.Parse(match.Groups["cpu"].Value, CultureInfo.InvariantCulture),
            int.Parse(match.Groups["memory"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^(?<os>LINUX|MACOS)_(?<arch>AMD64|ARM64)(?:_M\d+)?_(?<cpu>\d{1,3})X(?<memory>\d{1,4})$")]
    private static partial Regex Shape();
}
