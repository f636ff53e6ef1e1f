import type { ReactNode } from 'react';

/**
 * The dashboard's plain table: a scrolling wrapper, a caption for screen
 * readers (the table's accessible name), one header row of column names, and
 * the body rows given as children.
 */
export function DataTable({ caption, columns, children }: { caption: ReactNode; columns: ReactNode[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The header of a column of row buttons: named for screen readers only. */
export const ACTIONS_COLUMN = <span className="sr-only">Actions</span>;
