-- The search index merges its segments only when the writer is idle (src/store/sqlite/
-- idle-writer.ts runs bounded 'merge' steps), never inside an insert's, an indexing step's or a
-- retention step's transaction: with automerge on, any write to the index could start merging
-- large segments before it commits.
INSERT INTO messages_search (messages_search, rank) VALUES ('automerge', 0);
