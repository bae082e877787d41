import type { Locale } from '../http/locale.js';
import { html, type Raw } from '../web/html.js';
import type { DataCategory, PrivacyRegistry } from './registry.js';

export interface RegisterEntry extends DataCategory {
  provider: string;
}

/** The processing record (Verzeichnis von Verarbeitungstätigkeiten, Art. 30 DSGVO) from every provider's describe(). */
export function processingRegister(registry: PrivacyRegistry): RegisterEntry[] {
  return registry.all().flatMap((p) => p.describe().map((c) => ({ provider: p.name, ...c })));
}

export function registerHtml(entries: RegisterEntry[], tenantName: string, locale: Locale): Raw {
  const de = locale === 'de';
  return html`<h1>${de ? 'Verzeichnis der Verarbeitungstätigkeiten' : 'Record of processing activities'}</h1>
<p>${de ? `Welche personenbezogenen Daten die Schulbrücke für ${tenantName} speichert, wozu und wie lange (Art. 30 DSGVO).` : `Which personal data the bridge stores for ${tenantName}, why and for how long (Art. 30 GDPR).`}</p>
<table>
<caption class="muted">${de ? `${entries.length} Datenkategorien` : `${entries.length} categories of data`}</caption>
<thead><tr>
<th scope="col">${de ? 'Kategorie' : 'Category'}</th>
<th scope="col">${de ? 'Zweck' : 'Purpose'}</th>
<th scope="col">${de ? 'Tabelle und Felder' : 'Table and fields'}</th>
<th scope="col">${de ? 'Speicherdauer (Regel)' : 'Retention (rule)'}</th>
<th scope="col">${de ? 'Rechtsgrundlage' : 'Legal basis'}</th>
</tr></thead>
<tbody>
${entries.map(
  (e) => html`<tr>
<th scope="row"><code>${e.category}</code><br><span class="muted">${de ? 'Modul' : 'module'} ${e.provider}</span></th>
<td>${de ? e.purpose.de : e.purpose.en}</td>
<td><code>${e.table}</code> (${de ? 'Personenbezug über' : 'linked by'} ${e.userColumns.join(', ')}): ${e.fields.join(', ')}</td>
<td class="rule">${e.retentionRule}</td>
<td>${e.legalBasis ?? '–'}</td>
</tr>`,
)}
</tbody>
</table>`;
}
