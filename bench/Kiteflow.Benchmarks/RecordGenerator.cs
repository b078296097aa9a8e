using System.Text;
using System.Text.Json;

namespace Kiteflow.Benchmarks;

/// <summary>Realistic create-build records (~350 bytes): slugs, commit, branch, a message with non-ASCII text, author, env, meta_data.</summary>
internal static class RecordGenerator
{
    private static readonly string[] Pipelines = ["web", "api", "docs", "payments-service", "search-indexer"];
    private static readonly string[] Messages = ["Déploiement nocturne de {0} 🚀", "Release train for {0} — canary", "Rebuild {0} after Ünïcode fix", "夜间构建 {0}"];
    private static readonly (string Name, string Email)[] Authors = [("Zoë Ångström", "zoe@example.com"), ("José Müller", "jose@example.com"), ("Keith Pitt", "keith@example.com")];

    public static string Record(int i)
    {
        var pipeline = Pipelines[i % Pipelines.Length];
        var author = Authors[i % Authors.Length];
        var record = new
        {
            org = "acme",
            pipeline,
            commit = Convert.ToHexStringLower(BitConverter.GetBytes((long)i * 2654435761L)) + "0123456789abcdef01234567",
            branch = i % 10 == 0 ? $"release/2026.{i % 97}" : "main",
            message = string.Format(Messages[i % Messages.Length], pipeline),
            author = new { name = author.Name, email = author.Email },
            env = new { DEPLOY_TARGET = i % 2 == 0 ? "production" : "staging", TRAIN = (1000 + i).ToString() },
            meta_data = new { ticket = $"REL-{4000 + i}", requested_by = author.Email },
        };
        return JsonSerializer.Serialize(record, new JsonSerializerOptions { Encoder = Kiteflow.Core.Json.MinimalJsonEncoder.Instance });
    }

    /// <summary>JSON Lines of <paramref name="count"/> records, numbered from <paramref name="first"/>.</summary>
    public static byte[] JsonLines(int count, int first = 0)
    {
        var builder = new StringBuilder(count * 360);
        for (var i = first; i < first + count; i++)
        {
            builder.Append(Record(i)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
