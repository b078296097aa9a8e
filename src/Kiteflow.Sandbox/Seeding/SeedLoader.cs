using System.Text.Json;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Seeding;

/// <summary>Reads a seed document and lays it into a <see cref="SandboxStore"/>.</summary>
internal static class SeedLoader
{
    public const string AdminToken = "bkua_sandbox_admin_0000000000000000000000000";
    public const string MemberToken = "bkua_sandbox_member_000000000000000000000000";

    private static readonly JsonSerializerOptions ReadOptions = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static SeedDocument Read(string? path)
    {
        if (path is null)
        {
            using var stream = typeof(SeedLoader).Assembly.GetManifestResourceStream("Kiteflow.Sandbox.DefaultSeed.json")
                ?? throw new InvalidOperationException("The built-in seed is missing from the assembly.");
            return JsonSerializer.Deserialize<SeedDocument>(stream, ReadOptions)!;
        }

        try
        {
            return JsonSerializer.Deserialize<SeedDocument>(File.ReadAllText(path), ReadOptions)
                ?? throw new ArgumentException($"Seed file '{path}' is empty; it must hold a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Seed file '{path}' is not a valid seed: {e.Message}", e);
        }
    }

    /// <summary>Replaces the store's world with the seed's, then adds the extra tokens. Reports every problem at once.</summary>
    public static void Load(SandboxStore store, SeedDocument seed, IEnumerable<SandboxToken> extraTokens)
    {
        var errors = new List<string>();
        store.Clear();
        var now = store.Now;
        foreach (var (u, i) in seed.Users.Select((u, i) => (u, i)))
        {
            if (string.IsNullOrWhiteSpace(u.Email) || string.IsNullOrWhiteSpace(u.Name))
            {
                errors.Add($"users[{i}]: needs a name and an email.");
                continue;
            }

            store.Users.Add(new UserEntity { Id = u.Id ?? store.Ids.NewGuid(), Name = u.Name, Email = u.Email, CreatedAt = now });
        }

        if (store.Users.Count == 0)
        {
            errors.Add("users: the seed needs at least one user (the first owns tokens that name no user).");
        }

        foreach (var (o, i) in seed.Organizations.Select((o, i) => (o, i)))
        {
            LoadOrganization(store, o, $"organizations[{i}]", errors);
        }

        foreach (var (t, i) in seed.Tokens.Select((t, i) => (t, i)))
        {
            var user = t.User is null ? store.Users.FirstOrDefault() : store.FindUserByEmail(t.User);
            if (string.IsNullOrWhiteSpace(t.Token) || t.Token.Any(char.IsWhiteSpace))
            {
                errors.Add($"tokens[{i}].token: must be a non-empty string without spaces.");
            }
            else if (user is null)
            {
                errors.Add($"tokens[{i}].user: '{t.User}' is not one of the seed's users.");
            }
            else
            {
                var scopes = t.Scopes.Contains("*") ? Scopes.All : t.Scopes;
                store.AddToken(t.Token, scopes, user, t.Description ?? "Sandbox token", t.Organizations, t.ExpiresAt);
            }
        }

        foreach (var token in extraTokens)
        {
            try
            {
                store.AddToken(token);
            }
            catch (ArgumentException e)
            {
                errors.Add(e.Message);
            }
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid sandbox seed:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
    }

    private static void LoadOrganization(SandboxStore store, SeedOrganization seed, string at, List<string> errors)
    {
        var now = store.Now;
        if (string.IsNullOrWhiteSpace(seed.Slug))
        {
            errors.Add($"{at}.slug: is required.");
            return;
        }

        var org = new OrganizationEntity
        {
            Id = seed.Id ?? store.Ids.NewGuid(),
            Slug = seed.Slug,
            Name = seed.Name ?? seed.Slug,
            CreatedAt = now,
            RequiresClusterId = seed.RequiresClusterId,
            TeamsEnabled = seed.TeamsEnabled,
            PlanIncludesTeams = seed.PlanIncludesTeams,
        };
        store.Organizations.Add(org);
        var admin = store.Users[0];

        UserEntity? User(string email, string where)
        {
            var user = store.FindUserByEmail(email);
            if (user is null)
            {
                errors.Add($"{where}: user '{email}' is not one of the seed's users.");
            }

            return user;
        }

        foreach (var (m, i) in seed.Members.Select((m, i) => (m, i)))
        {
            if (User(m.User, $"{at}.members[{i}].user") is { } user)
            {
                org.Members[user.Id] = string.Equals(m.Role, "admin", StringComparison.OrdinalIgnoreCase) ? MemberRole.Admin : MemberRole.Member;
            }
        }

        if (org.Members.Count == 0)
        {
            // An organization with no members listed belongs to every user, as administrators.
            foreach (var user in store.Users)
            {
                org.Members[user.Id] = MemberRole.Admin;
            }
        }

        foreach (var (c, i) in seed.Clusters.Select((c, i) => (c, i)))
        {
            var cluster = new ClusterEntity
            {
                Id = c.Id ?? store.Ids.NewGuid(),
                Name = c.Name,
                Description = c.Description,
                Emoji = c.Emoji,
                Color = c.Color,
                CreatedBy = admin,
                CreatedAt = now,
            };
            foreach (var q in c.Queues)
            {
                cluster.Queues.Add(new QueueEntity
                {
                    Id = q.Id ?? store.Ids.NewGuid(),
                    Cluster = cluster,
                    Key = q.Key,
                    Description = q.Description,
                    InstanceShape = q.InstanceShape,
                    CreatedBy = admin,
                    CreatedAt = now,
                });
            }

            if (c.DefaultQueue is not null)
            {
                cluster.DefaultQueueId = cluster.Queues.Find(q => q.Key == c.DefaultQueue)?.Id;
                if (cluster.DefaultQueueId is null)
                {
                    errors.Add($"{at}.clusters[{i}].defaultQueue: '{c.DefaultQueue}' is not one of the cluster's queues.");
                }
            }

            org.Clusters.Add(cluster);
        }

        foreach (var (p, i) in seed.Pipelines.Select((p, i) => (p, i)))
        {
            var cluster = p.Cluster is null ? null : org.Clusters.Find(c => c.Name == p.Cluster);
            if (p.Cluster is not null && cluster is null)
            {
                errors.Add($"{at}.pipelines[{i}].cluster: '{p.Cluster}' is not one of the organization's clusters.");
            }

            org.Pipelines.Add(new PipelineEntity
            {
                Id = p.Id ?? store.Ids.NewGuid(),
                Organization = org,
                Name = p.Name,
                Slug = p.Slug ?? Api.Slugs.FromName(p.Name),
                Repository = p.Repository,
                Configuration = p.Configuration,
                Description = p.Description,
                DefaultBranch = p.DefaultBranch ?? "main",
                ClusterId = cluster?.Id,
                AllowRebuilds = p.AllowRebuilds,
                ArchivedAt = p.Archived ? now : null,
                Visibility = p.Visibility ?? "private",
                CreatedAt = now,
                CreatedBy = admin,
                BadgeToken = store.Ids.NewHex(50),
                WebhookToken = store.Ids.NewHex(50),
            });
        }

        foreach (var (a, i) in seed.Agents.Select((a, i) => (a, i)))
        {
            var cluster = a.Cluster is null ? null : org.Clusters.Find(c => c.Name == a.Cluster);
            var queue = cluster?.Queues.Find(q => q.Key == a.Queue);
            if (a.Cluster is not null && cluster is null)
            {
                errors.Add($"{at}.agents[{i}].cluster: '{a.Cluster}' is not one of the organization's clusters.");
            }

            org.Agents.Add(new AgentEntity
            {
                Id = a.Id ?? store.Ids.NewGuid(),
                Name = a.Name,
                ConnectionState = a.ConnectionState,
                Hostname = a.Hostname ?? a.Name,
                IpAddress = "127.0.0.1",
                Version = "3.90.0",
                Creator = admin,
                CreatedAt = now,
                MetaData = [.. a.MetaData.Select(m => (System.Text.Json.Nodes.JsonNode?)m)],
                ClusterId = cluster?.Id,
                QueueId = queue?.Id,
                Paused = a.Paused,
                PausedAt = a.Paused ? now : null,
                PausedBy = a.Paused ? admin : null,
            });
        }

        foreach (var (t, i) in seed.Teams.Select((t, i) => (t, i)))
        {
            var team = new TeamEntity
            {
                Id = t.Id ?? store.Ids.NewGuid(),
                Name = t.Name,
                Slug = Api.Slugs.FromName(t.Name),
                Description = t.Description,
                Privacy = t.Privacy,
                CreatedBy = admin,
                CreatedAt = now,
            };
            foreach (var (m, j) in t.Members.Select((m, j) => (m, j)))
            {
                if (User(m.User, $"{at}.teams[{i}].members[{j}].user") is { } user)
                {
                    team.Members.Add(new TeamMemberEntity { User = user, Role = m.Role, CreatedAt = now });
                }
            }

            foreach (var (tp, j) in t.Pipelines.Select((tp, j) => (tp, j)))
            {
                var pipeline = org.Pipelines.Find(p => p.Slug == tp.Pipeline);
                if (pipeline is null)
                {
                    errors.Add($"{at}.teams[{i}].pipelines[{j}].pipeline: '{tp.Pipeline}' is not one of the organization's pipeline slugs.");
                    continue;
                }

                team.Pipelines.Add(new TeamPipelineEntity { Pipeline = pipeline, AccessLevel = tp.AccessLevel, CreatedAt = now });
            }

            org.Teams.Add(team);
        }
    }
}
