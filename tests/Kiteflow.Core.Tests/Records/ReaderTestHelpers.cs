using System.Text;
using Kiteflow.Core.Records;

namespace Kiteflow.Core.Tests.Records;

internal static class ReaderTestHelpers
{
    /// <summary>Reads every item of <paramref name="text"/> and describes each as "ok:position:line:json" or "rej:position:line:message".</summary>
    public static List<string> ReadAll(string text, InputFormat format, ReaderLimits? limits = null) =>
        ReadAll(Encoding.UTF8.GetBytes(text), format, limits);

    public static List<string> ReadAll(byte[] bytes, InputFormat format, ReaderLimits? limits = null)
    {
        var items = new List<string>();
        using var reader = RecordReader.Create(new MemoryStream(bytes), format, limits);
        foreach (var item in reader)
        {
            if (item.Record is { } record)
            {
                using (record)
                {
                    items.Add($"ok:{record.Position}:{record.Line}:{record.Value.GetRawText()}");
                }
            }
            else
            {
                var r = item.Rejection!;
                Assert.Equal(RejectionStage.Read, r.Stage);
                items.Add($"rej:{r.Record}:{r.Line}:{r.Message}");
            }
        }

        return items;
    }
}
