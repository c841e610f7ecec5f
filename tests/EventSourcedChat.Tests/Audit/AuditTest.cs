using System.Net;
using System.Text.Json;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Audit;

/// <summary>Audit tests through the real host; leaves no projection work behind for the next test's reset.</summary>
public abstract class AuditTest(PostgresFixture db) : ApiTest(db)
{
    public override async Task InitializeAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await base.InitializeAsync();
                return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
            }
        }
    }

    public override async Task DisposeAsync()
    {
        var head = await ScalarAsync<long>("select coalesce(max(position), 0) from es_events");
        Assert.True(await ReadYourWrites.CaughtUpAsync(Db.DataSource, head, ["projection:history", ChannelAccess.Directory], default),
            $"the projections did not reach position {head}");
        await base.DisposeAsync();
    }

    protected async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var cmd = Db.DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            cmd.Parameters.AddWithValue(arg);
        }
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    protected static async Task<long> PostAsync(TestUser user, string ch, string text, long? threadRootSeq = null) =>
        (await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text, threadRootSeq }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();

    /// <summary>The NDJSON export, one parsed line per event.</summary>
    protected static async Task<List<JsonElement>> ExportAsync(TestUser auditor, string ch, string query = "")
    {
        var response = await auditor.SendAsync("GET", $"/v1/audit/channels/{ch}/events{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    /// <summary>The <c>audit.read</c> events of the workspace stream, oldest first.</summary>
    protected async Task<List<JsonElement>> AuditReadsAsync(string workspaceId)
    {
        await using var cmd = Db.DataSource.CreateCommand(
            "select data::text from es_events where stream_id = $1 and type = 'audit.read.v1' order by version");
        cmd.Parameters.AddWithValue($"workspace-{workspaceId}");
        await using var r = await cmd.ExecuteReaderAsync();
        var list = new List<JsonElement>();
        while (await r.ReadAsync())
        {
            list.Add(JsonDocument.Parse(r.GetString(0)).RootElement.Clone());
        }
        return list;
    }
}
