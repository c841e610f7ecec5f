-- Images' dimensions and thumbnails (docs/files.md#images-dimensions-and-thumbnails): found when an upload's bytes are
-- recorded, carried into the `files` of the posts that attach the file. Null for other files and for images that could
-- not be decoded. `thumbnail` is the Contracts' `Thumbnail` record as JSON: {objectId, width, height, contentType}.
alter table ws_files add column width int, add column height int, add column thumbnail jsonb;
