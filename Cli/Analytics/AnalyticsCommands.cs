using System.Globalization;
using System.Text;
using Npgsql;
using Spectre.Console;

namespace EventSourcedChat.Cli.Analytics;

public enum OutputFormat
{
    Table,
    Csv,
}

/// <summary>Prints a view of the <c>analytics</c> schema (see docs/analytics.md), read from the database directly.</summary>
public static class AnalyticsCommands
{
    /// <summary>The views analysts may query.</summary>
    public static async Task<IReadOnlyList<string>> ViewsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select table_name from information_schema.views where table_schema = 'analytics' order by table_name");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var views = new List<string>();
        while (await r.ReadAsync(ct))
        {
            views.Add(r.GetString(0));
        }
        return views;
    }

    /// <summary>Every row of <paramref name="view"/> (of one workspace when given), ordered by all its columns.</summary>
    public static async Task<int> QueryAsync(
        NpgsqlDataSource db, IAnsiConsole console, TextWriter output, string view, string? workspaceId, OutputFormat format, CancellationToken ct)
    {
        var views = await ViewsAsync(db, ct);
        if (!views.Contains(view))
        {
            throw new Api.CliException($"no analytics view '{view}'; there are: {string.Join(", ", views)}");
        }
        var sql = $"select * from analytics.\"{view}\"{(workspaceId is null ? "" : " where workspace_id = $1")}";
        await using var cmd = db.CreateCommand(sql);
        if (workspaceId is not null)
        {
            cmd.Parameters.AddWithValue(workspaceId);
        }
        var rows = new List<string[]>();
        string[] columns = [];
        await console.Status().StartAsync($"querying analytics.{view}", async _ =>
        {
            await using var r = await cmd.ExecuteReaderAsync(ct);
            columns = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToArray();
            while (await r.ReadAsync(ct))
            {
                rows.Add(Enumerable.Range(0, r.FieldCount).Select(i => Text(r.GetValue(i))).ToArray());
            }
        });
        rows.Sort((a, b) => Compare(a, b));
        if (format == OutputFormat.Csv)
        {
            await output.WriteLineAsync(string.Join(',', columns.Select(Csv)));
            foreach (var row in rows)
            {
                await output.WriteLineAsync(string.Join(',', row.Select(Csv)));
            }
            await output.FlushAsync(ct);
        }
        else
        {
            var table = new Table().AddColumns(columns.Select(c => new TableColumn(Markup.Escape(c))).ToArray());
            foreach (var row in rows)
            {
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
            console.Write(table);
        }
        return rows.Count;
    }

    private static int Compare(string[] a, string[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            var c = string.CompareOrdinal(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }
        return 0;
    }

    private static string Text(object value) => value switch
    {
        DBNull => "",
        DateTime d when d.TimeOfDay == TimeSpan.Zero => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Csv(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
