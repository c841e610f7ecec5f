using System.Globalization;
using System.Text.Json;
using EventSourcedChat.Cli.Api;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace EventSourcedChat.Cli.Admin;

/// <summary>
/// <c>chatctl status</c>: the deployment at a glance from <c>GET /v1/admin/status</c>: the head of the log and the
/// append rate, each projection's and the push worker's state, lag and rate, and each live gateway with its
/// connections; refreshed in place (Spectre.Console live display). Rates are the change between two refreshes.
/// </summary>
public static class StatusCommand
{
    public static async Task RunAsync(ChatApi api, IAnsiConsole console, TimeSpan interval, int? refreshes, CancellationToken ct)
    {
        var previous = await api.SendAsync(HttpMethod.Get, "/v1/admin/status", null, ct);
        if (refreshes is 0)
        {
            console.Write(Render(previous, null));
            return;
        }
        await console.Live(Render(previous, null)).AutoClear(false).StartAsync(async live =>
        {
            for (var n = 0; refreshes is null || n < refreshes; n++)
            {
                await Task.Delay(interval, ct);
                var current = await api.SendAsync(HttpMethod.Get, "/v1/admin/status", null, ct);
                live.UpdateTarget(Render(current, previous));
                live.Refresh();
                previous = current;
            }
        });
    }

    private static IRenderable Render(JsonElement status, JsonElement? before)
    {
        var seconds = before is { } b
            ? Math.Max(0.001, (status.GetProperty("at").GetDateTimeOffset() - b.GetProperty("at").GetDateTimeOffset()).TotalSeconds)
            : (double?)null;
        var head = status.GetProperty("headPosition").GetInt64();
        var appended = seconds is { } s && before is { } p ? Rate(head - p.GetProperty("headPosition").GetInt64(), s) : "-";
        var summary = new Markup(Markup.Escape(
            $"{status.GetProperty("at").GetDateTimeOffset():u}   head of the log {head:N0}   appended {appended} events/s"));

        var runners = new Table().Title("projections and push").AddColumns("runner", "state", "owner", "position", "lag", "lag (s)", "applied/s", "error");
        foreach (var r in status.GetProperty("runners").EnumerateArray())
        {
            var name = r.GetProperty("name").GetString()!;
            var position = r.GetProperty("position").GetInt64();
            var applied = "-";
            if (seconds is { } sec && before is { } prev
                && prev.GetProperty("runners").EnumerateArray().FirstOrDefault(x => x.GetProperty("name").GetString() == name) is { ValueKind: JsonValueKind.Object } old)
            {
                applied = Rate(position - old.GetProperty("position").GetInt64(), sec);
            }
            runners.AddRow(
                Markup.Escape(name),
                Markup.Escape(r.GetProperty("state").GetString()!),
                Markup.Escape(r.TryGetProperty("owner", out var o) ? o.GetString() ?? "" : ""),
                position.ToString("N0", CultureInfo.InvariantCulture),
                r.GetProperty("lagEvents").GetInt64().ToString("N0", CultureInfo.InvariantCulture),
                r.GetProperty("lagSeconds").GetDouble().ToString("0.0", CultureInfo.InvariantCulture),
                applied,
                Markup.Escape(r.TryGetProperty("error", out var e) ? e.GetString() ?? "" : ""));
        }

        var gateways = new Table().Title("gateways").AddColumns("node", "hub url", "connections");
        if (status.GetProperty("gateways") is { ValueKind: JsonValueKind.Array } list)
        {
            foreach (var g in list.EnumerateArray())
            {
                gateways.AddRow(Markup.Escape(g.GetProperty("nodeId").GetString()!), Markup.Escape(g.GetProperty("url").GetString()!),
                    g.GetProperty("connections").GetInt32().ToString("N0", CultureInfo.InvariantCulture));
            }
        }
        else
        {
            gateways.AddRow("(unknown: Redis does not answer)", "", "");
        }
        return new Rows(summary, runners, gateways);
    }

    private static string Rate(long delta, double seconds) => (delta / seconds).ToString("0.0", CultureInfo.InvariantCulture);
}
