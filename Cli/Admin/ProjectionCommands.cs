using System.Text.Json;
using EventSourcedChat.Cli.Api;
using Spectre.Console;

namespace EventSourcedChat.Cli.Admin;

/// <summary>Projection status, lag and rebuilds through <c>/v1/admin/projections</c> (instance administrators).</summary>
public static class ProjectionCommands
{
    public static async Task<JsonElement> StatusAsync(ChatApi api, IAnsiConsole console, CancellationToken ct)
    {
        var status = await api.SendAsync(HttpMethod.Get, "/v1/admin/projections", null, ct);
        var table = new Table().AddColumns("projection", "state", "owner", "checkpoint", "head", "lag", "lag (s)", "rebuild", "error");
        foreach (var p in status.EnumerateArray())
        {
            var rebuild = p.TryGetProperty("rebuild", out var r) && r.ValueKind == JsonValueKind.Object
                ? $"{r.GetProperty("state").GetString()} ({r.GetProperty("eventsApplied").GetInt64()} events)"
                : "";
            table.AddRow(
                Markup.Escape(p.GetProperty("name").GetString()!),
                Markup.Escape(p.GetProperty("state").GetString()!),
                Markup.Escape(p.TryGetProperty("owner", out var o) ? o.GetString() ?? "" : ""),
                p.GetProperty("checkpointPosition").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                p.GetProperty("headPosition").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                p.GetProperty("lag").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                p.GetProperty("lagSeconds").GetDouble().ToString("0.0", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(rebuild),
                Markup.Escape(p.TryGetProperty("error", out var e) ? e.GetString() ?? "" : ""));
        }
        console.Write(table);
        return status;
    }

    /// <summary>Asks the node that owns <paramref name="name"/> to start it again from its checkpoint.</summary>
    public static async Task RestartAsync(ChatApi api, IAnsiConsole console, string name, CancellationToken ct)
    {
        await api.SendAsync(HttpMethod.Post, $"/v1/admin/projections/{Uri.EscapeDataString(name)}/restart", null, ct);
        console.WriteLine($"restart of {name} requested; its owner restarts it within a second or two");
    }

    /// <summary>Starts a rebuild and, unless <paramref name="wait"/> is false, follows it with a progress bar until it switches over.</summary>
    public static async Task<string> RebuildAsync(ChatApi api, IAnsiConsole console, string name, bool wait, TimeSpan poll, CancellationToken ct)
    {
        await api.SendAsync(HttpMethod.Post, $"/v1/admin/projections/{Uri.EscapeDataString(name)}/rebuild", null, ct);
        if (!wait)
        {
            console.WriteLine($"rebuild of {name} started");
            return "rebuilding";
        }
        var state = "rebuilding";
        string? error = null;
        await console.Progress().AutoClear(false).StartAsync(async progress =>
        {
            var task = progress.AddTask($"rebuild {name}", maxValue: 1);
            while (state == "rebuilding")
            {
                await Task.Delay(poll, ct);
                var status = await api.SendAsync(HttpMethod.Get, "/v1/admin/projections", null, ct);
                var p = status.EnumerateArray().First(x => x.GetProperty("name").GetString() == name);
                task.MaxValue = Math.Max(1, p.GetProperty("headPosition").GetInt64());
                if (p.TryGetProperty("rebuild", out var r) && r.ValueKind == JsonValueKind.Object)
                {
                    state = r.GetProperty("state").GetString()!;
                    error = r.TryGetProperty("error", out var e) ? e.GetString() : null;
                    task.Value = Math.Min(task.MaxValue, r.GetProperty("eventsApplied").GetInt64());
                }
            }
            task.Value = task.MaxValue;
        });
        if (state != "switched")
        {
            throw new CliException($"the rebuild of {name} {state}: {error}");
        }
        console.WriteLine($"{name} rebuilt and switched over");
        return state;
    }
}
