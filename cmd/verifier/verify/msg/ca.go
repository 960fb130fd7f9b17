package msg

// ca is Catalan. Dates carry their article (Date): "l'1 de març", "el 2 de
// març".
var ca = map[string]string{
	"verdict.valid":          "VÀLID.",
	"verdict.revoked":        "REVOCAT.",
	"verdict.not_valid":      "NO VÀLID.",
	"verdict.no_document":    "(S'ha comprovat el rebut sense el document.)",
	"verdict.registered":     "Aquest document el va registrar {issuer} {when}.",
	"verdict.confirmed":      "Van confirmar el registre {signers}, amb el {share} del poder de vot.",
	"verdict.not_revoked":    "No constava com a revocat {when}.",
	"verdict.revoked_on":     "Va ser revocat {when} per {by}: {reason}.",
	"verdict.status_as_of":   "Estat vigent {when}.",
	"verdict.live_checked":   "Estat comprovat en directe amb {checked} de {tried} nodes.",
	"verdict.live_unchecked": "No s'ha pogut comprovar si va ser revocat després d'aquesta data.",
	"verdict.live_disagree":  "Atenció: els nodes no coincideixen: segons {revoking} està revocat, i segons {other} no ho està, amb un estat igual o posterior.",
	"verdict.live_stale":     "Atenció: {node} respon amb un estat antic (altura {height}; el més recent és de l'altura {newest}).",
	"verdict.live_failed":    "Sense resposta vàlida de: {nodes}.",
	"verdict.trust":          "Paquet de confiança: empremta SHA-256 {fingerprint}.",

	"list.and":       " i ",
	"list.others":    "{count} ministeris més",
	"who.governance": "decisió del consorci (proposta {id})",
	"who.agency":     "l'agència {id}",

	"time.date":       "{day} {month} de {year}",
	"time.month.1":    "de gener",
	"time.month.2":    "de febrer",
	"time.month.3":    "de març",
	"time.month.4":    "d'abril",
	"time.month.5":    "de maig",
	"time.month.6":    "de juny",
	"time.month.7":    "de juliol",
	"time.month.8":    "d'agost",
	"time.month.9":    "de setembre",
	"time.month.10":   "d'octubre",
	"time.month.11":   "de novembre",
	"time.month.12":   "de desembre",
	"time.at":         "{date} a les {time} UTC",
	"time.at_one":     "{date} a la {time} UTC",
	"time.local":      "{time} {zone}, hora local",
	"time.local_date": "{date} {time} {zone}, hora local",
	"num.decimal":     ",",
	"num.percent":     "{n} %",

	"reason.malformed_receipt":         "El fitxer del rebut està malmès o no és un rebut del notari, de manera que no prova res.",
	"reason.wrong_chain":               "El rebut pertany a una xarxa notarial diferent de la que descriu el vostre paquet de confiança.",
	"reason.document_mismatch":         "El document no coincideix amb el rebut: no és el document registrat o s'ha modificat.",
	"reason.proof_invalid":             "La prova del rebut que el document consta a la xarxa notarial no és correcta.",
	"reason.signature_invalid":         "Una signatura d'un ministeri al rebut no és vàlida: el rebut s'ha alterat o falsificat.",
	"reason.insufficient_signatures":   "El rebut no està signat per prou ministeris: l'han de confirmar més de dos terços del poder de vot.",
	"reason.validator_set_not_reached": "El rebut està signat per validadors que no es poden vincular amb els membres del consorci del vostre paquet de confiança.",

	"revocation.superseded":      "substituït per un document més recent",
	"revocation.issued-in-error": "emès per error",
	"revocation.fraud":           "obtingut de manera fraudulenta",
	"revocation.expired":         "la seva validesa va acabar",
	"revocation.court-order":     "per ordre judicial",
	"revocation.other":           "un altre motiu",

	"live.receipt":         "el mateix rebut",
	"live.node":            "{node} ({error})",
	"live.err.timeout":     "no ha respost en {seconds} s",
	"live.err.unreachable": "no s'hi ha pogut connectar",
	"live.err.http":        "ha respost amb el codi HTTP {code}",
	"live.err.not_found":   "diu que no coneix aquest document",
	"live.err.busy":        "està ocupat o s'està sincronitzant",
	"live.err.too_large":   "ha enviat més de {limit}",
	"live.err.malformed":   "no ha enviat un estat amb el format esperat",
	"live.err.mismatch":    "ha enviat l'estat d'un altre document o d'una altra xarxa",
	"live.err.not_valid":   "ha enviat un estat la prova del qual no és correcta",

	"step.receipt_format":    "Format del rebut",
	"step.chain_id":          "Xarxa notarial",
	"step.validator_chain":   "Canvis de validadors",
	"step.anchor_checkpoint": "Bloc del registre",
	"step.status_checkpoint": "Bloc de l'estat",
	"step.batch_record":      "Lot",
	"step.issuer_record":     "Organisme emissor",
	"step.merkle_inclusion":  "Inclusió al lot",
	"step.status":            "Revocació",
	"step.document":          "Document",
	"step.live_status":       "Estat en directe",

	"cli.root.short": "comprova un document registrat al notari; vegeu i controleu qui fa servir les vostres dades",
	"cli.root.long": `verifier comprova documents registrats a la cadena del consorci GobTechLab
Notary: n'hi ha prou amb el document, el seu rebut (*.receipt.json) i el
paquet de confiança del consorci (trust.json). No confia en cap node, només
en les signatures de més de dos terços del poder de vot de conjunts de
validadors que s'encadenen des del paquet de confiança.

  verifier verify DOCUMENT REBUT            comprova un document
  verifier code CODI [--file DOCUMENT]      comprova un document pel seu codi de verificació
  verifier inspect REBUT                    mostra el que diu un rebut (sense verificar)
  verifier trust show|fingerprint           el paquet de confiança en ús i la seva empremta
  verifier version                          versió, commit i versió de CometBFT

Com a ciutadà, amb la vostra pròpia clau, parlant amb un node (--node):

  verifier citizen keygen [--out DIR]       crea la vostra identitat de ciutadà
  verifier consent grant|withdraw|list      gestiona els vostres consentiments
  verifier accesses --trust TRUST           qui ha obtingut dades vostres, verificat

Com a testimoni del registre del consorci (una sindicatura de comptes, una universitat):

  verifier witness init|serve               cosigna els punts de control del registre (docs/witness.md)

Codis de sortida de verify: 0 vàlid i no revocat, 3 vàlid però revocat,
1 no vàlid, 2 error d'ús o fitxer il·legible. Dels comandaments de ciutadà:
0 fet, 1 rebutjat o no verificat, 2 error d'ús, 4 node inabastable.
Un comandament interromput amb SIGINT (Ctrl-C) o SIGTERM acaba amb 130.
Les entrades han de ser fitxers normals: una canonada, un dispositiu o una
carpeta es rebutgen (sortida 2). Els textos segueixen --lang, o LC_ALL,
LC_MESSAGES i LANG (es, en, ca, gl, eu; castellà per defecte). Cada opció es
pot donar també amb NOTARY_<OPCIÓ>.`,
	"cli.verify.short": "comprova un document amb el seu rebut",
	"cli.verify.long": `verify comprova que DOCUMENT és el document que el rebut REBUT prova que es va
registrar a la cadena del paquet de confiança, i si s'ha revocat. Escriu un
paràgraf per al ciutadà (o, amb --output json, cada pas i el seu resultat).

El paquet de confiança es busca en aquest ordre: --trust, la variable
NOTARY_TRUST, {config}, i el que porta el programa en publicar-lo, si n'hi
ha. S'escriu la seva empremta SHA-256, que el consorci publica per
contrastar-la.

El rebut porta l'estat de revocació del dia en què es va obtenir. Per saber
si el document s'ha revocat després, verify pregunta alhora als nodes
públics del paquet de confiança i als de --node, amb un límit de {seconds} s
per node i d'1 MB per resposta; cada resposta es verifica com el mateix
rebut (signatures de més de dos terços del poder de vot). Amb --offline no
fa servir la xarxa i diu que no ho ha pogut comprovar.

Codis de sortida: 0 vàlid i no revocat, 3 vàlid però revocat (també si un
node prova una revocació posterior), 1 no vàlid, 2 error d'ús o fitxer
il·legible.`,
	"cli.flag.trust":   "paquet de confiança del consorci (trust.json)",
	"cli.flag.node":    "URL d'un node públic a qui preguntar l'estat actual (repetible)",
	"cli.flag.offline": "no fer servir la xarxa: només l'estat que porta el rebut",
	"cli.flag.lang":    "llengua dels textos: es, en, ca, gl o eu (per defecte: LANG, si no castellà)",
	"cli.flag.tz":      "fus horari de les hores locals, p. ex. Europe/Madrid (per defecte: el del sistema)",

	"cli.err.no_trust":      "No s'ha trobat el paquet de confiança: indiqueu-lo amb --trust, amb la variable NOTARY_TRUST o poseu-lo a {path}.",
	"cli.err.trust_read":    "No s'ha pogut llegir el paquet de confiança {path}: {error}",
	"cli.err.trust_invalid": "El paquet de confiança {path} no és vàlid: {error}",
	"cli.err.receipt_read":  "No s'ha pogut llegir el rebut {path}: {error}",
	"cli.err.document_read": "No s'ha pogut llegir el document {path}: {error}",
	"cli.err.lang":          "Llengua {value} desconeguda: feu servir es, en, ca, gl o eu.",
	"cli.err.node_url":      "--node {value}: no és una adreça http:// o https:// vàlida.",
	"cli.err.offline_node":  "--offline i --node no es poden fer servir alhora.",
	"cli.err.args":          "Indiqueu el document i el seu rebut: verifier verify DOCUMENT REBUT.",

	"cli.usage.usage":        "Ús:",
	"cli.usage.commands":     "Comandaments:",
	"cli.usage.flags":        "Opcions:",
	"cli.usage.global_flags": "Opcions globals:",
	"cli.usage.more":         "Feu servir «{command} [comandament] --help» per saber-ne més d'un comandament.",

	"verdict.code_no_document":  "(S'ha comprovat pel seu codi de verificació, sense el document.)",
	"verdict.code_not_found":    "NO TROBAT. No hi ha cap document registrat amb el codi de verificació {code}.",
	"verdict.receipt_saved":     "Rebut desat a {path}.",
	"verdict.receipt_not_saved": "No s'ha desat el rebut: el fitxer no és el document registrat amb aquest codi.",
	"code.err.empty":            "No s'ha indicat cap codi de verificació.",
	"code.err.symbol":           "El caràcter {position} del codi, {char}, no s'utilitza en els codis de verificació.",
	"code.err.confusable":       "El caràcter {position} del codi, {char}, no s'utilitza en els codis de verificació (mai no porten 0, O, 1, I ni L).",
	"code.err.length":           "El codi té {count} caràcters; un codi de verificació en té {want} (sense comptar espais ni guions).",
	"code.err.check":            "El codi de verificació no és correcte: hi ha un caràcter mal escrit o dos d'intercanviats. Comproveu-lo al document.",
	"code.err.link":             "L'enllaç no conté cap codi de verificació.",
	"cli.code.short":            "comprovar el registre d'un document pel seu codi de verificació",
	"cli.code.long": `code comprova el registre del document el codi de verificació del qual és
CODI (tal com figura imprès, agrupat o no, o l'enllaç del seu codi QR). Un
codi mal escrit es rebutja aquí, abans de preguntar res. El codi no surt
d'aquest ordinador: als nodes se'ls pregunta per una clau derivada d'ell.

Es pregunta per torns als nodes públics del paquet de confiança i als de
--node pel rebut del document registrat amb el codi; el primer rebut que
es verifica amb el paquet de confiança (signatures de més de dos terços del
poder de vot) dona el nom registrat de l'organisme emissor, la data de
registre i l'estat, i als altres nodes se'ls pregunta l'estat actual,
esperant com a màxim {seconds} s cadascun.

Amb --file, diu si aquest fitxer és exactament el document registrat amb el
codi, amb les mateixes frases que verify; --save-receipt escriu llavors el
rebut complet del document, que verify accepta sense connexió.

Codis de sortida: 0 vàlid i no revocat, 3 vàlid però revocat, 1 no vàlid
(també: el fitxer no és el document registrat), 5 no hi ha cap document
registrat amb el codi, 2 error d'ús, codi mal escrit o fitxer il·legible,
4 no s'ha pogut preguntar a cap node.`,
	"cli.flag.file":            "el document que es compara amb el registre (no s'envia enlloc)",
	"cli.flag.endpoint":        "URL d'un node públic a qui preguntar també (repetible)",
	"cli.flag.save_receipt":    "escriure el rebut complet del document en aquest fitxer",
	"cli.err.code_args":        "Indiqueu el codi de verificació: verifier code CODI.",
	"cli.err.endpoint_url":     "--node {value}: no és una adreça http:// o https:// vàlida.",
	"cli.err.no_endpoints":     "El paquet de confiança no inclou nodes públics a qui preguntar: indiqueu-ne un amb --node.",
	"cli.err.code_unreachable": "Cap node no ha respost sobre el codi de verificació: {nodes}.",
	"cli.err.receipt_write":    "No s'ha pogut escriure el rebut {path}: {error}",

	"web.err_no_document":  "Trieu el document que voleu comprovar.",
	"web.no_endpoints":     "El paquet de confiança no indica cap node per consultar: l'estat és el que porta el rebut.",
	"web.page_title":       "Verificar un document registrat",
	"web.skip_link":        "Salta al formulari",
	"web.intro":            "Comproveu que un document va ser registrat per una administració i si ha estat revocat. El document no surt del vostre equip: es comprova en aquest navegador.",
	"web.language":         "Idioma",
	"web.document":         "Document",
	"web.document_hint":    "El fitxer que voleu comprovar. No s'envia enlloc.",
	"web.receipt":          "Rebut",
	"web.receipt_hint":     "El rebut de registre (fitxer .receipt.json) que acompanya el document.",
	"web.drop_hint":        "També podeu arrossegar aquí el document i el seu rebut.",
	"web.chosen":           "Triat: {name} ({size})",
	"web.none_chosen":      "Cap fitxer triat.",
	"web.receipt_info":     "Rebut de la xarxa {chain}, empremta {alg} {digest}.",
	"web.mode":             "Estat de revocació",
	"web.mode_online":      "Consultar l'estat actual als nodes del consorci",
	"web.mode_offline":     "Sense connexió: fer servir només l'estat que porta el rebut",
	"web.verify":           "Comprova",
	"web.reset":            "Torna a començar",
	"web.hashing":          "S'està calculant l'empremta del document…",
	"web.asking":           "S'estan consultant {n} nodes del consorci…",
	"web.checking":         "S'estan comprovant les signatures i les proves…",
	"web.result":           "Resultat",
	"web.offline_note":     "Sense connexió: l'estat és el que porta el rebut; no s'ha comprovat si el document es va revocar després.",
	"web.offline_auto":     "No s'ha pogut contactar amb cap node: l'estat és el que porta el rebut.",
	"web.details":          "Detalls tècnics",
	"web.steps":            "Comprovacions",
	"web.nodes":            "Nodes consultats",
	"web.step_ok":          "correcte",
	"web.step_failed":      "ha fallat",
	"web.step_skipped":     "omès",
	"web.step_not_checked": "no comprovat",
	"web.trust":            "Paquet de confiança",
	"web.fingerprint":      "Empremta (SHA-256) del paquet de confiança: {fp}",
	"web.trust_chain":      "Xarxa {chain}, {n} validadors.",
	"web.err_no_receipt":   "Trieu el rebut del document.",
	"web.err_receipt":      "El fitxer triat com a rebut no és un rebut del notari.",
	"web.err_trust":        "No s'ha pogut carregar el paquet de confiança (trust.json) d'aquesta pàgina.",
	"web.err_core":         "No s'ha pogut carregar el verificador en aquest navegador.",
	"web.err_document":     "No s'ha pogut llegir el document.",
	"web.err_verify":       "No s'ha pogut completar la comprovació: {error}",
	"web.node_timeout":     "sense resposta en {s} s",
	"web.node_failed":      "no s'ha pogut consultar",
	"web.footer":           "Verificador de rebuts de GobTechLab Notary. Un cop carregada, aquesta pàgina funciona sense connexió.",

	// The web verifier's verification codes.
	"web.receipt_heading":     "Amb el document i el seu rebut",
	"web.code_heading":        "Amb un codi de verificació",
	"web.code_intro":          "Si el document porta imprès un codi de verificació o un codi QR, escriviu el codi o obriu l'enllaç del QR: veureu quina administració el va registrar, quan i si continua vigent. El codi no surt d'aquest navegador: als nodes només se'ls demana una empremta seva.",
	"web.code":                "Codi de verificació",
	"web.code_hint":           "20 caràcters, com ara 7KQ4M-XW9TR-2HDNP-C8VE6. Els guions i els espais són opcionals, i és igual escriure en majúscules o en minúscules.",
	"web.code_document":       "Document (opcional)",
	"web.code_document_hint":  "Si teniu el fitxer del document, afegiu-lo per comprovar que és exactament el registrat. No s'envia enlloc.",
	"web.code_verify":         "Comprova el codi",
	"web.code_err_empty":      "Escriviu el codi de verificació.",
	"web.code_err_symbol":     "El caràcter {pos}, «{char}», no s'utilitza en els codis de verificació.",
	"web.code_err_confusable": "El caràcter {pos}, «{char}», no s'utilitza en els codis de verificació: mai no porten 0, O, 1, I ni L.",
	"web.code_err_length":     "El codi té {n} caràcters i n'ha de tenir {want} (sense comptar espais ni guions).",
	"web.code_err_check":      "El codi no és correcte: hi ha un caràcter mal escrit o dos d'intercanviats. Reviseu-lo.",
	"web.code_err_link":       "L'enllaç no conté cap codi de verificació.",
	"web.code_asking":         "S'està cercant el codi als nodes del consorci…",
	"web.code_not_found":      "No hi ha cap document registrat amb aquest codi. Comproveu que l'heu escrit bé.",
	"web.code_unreachable":    "No s'ha pogut consultar cap node del consorci: un codi només es pot comprovar amb connexió.",
	"web.code_no_endpoints":   "El paquet de confiança no indica nodes a consultar: un codi no es pot comprovar sense ells.",
	"web.code_other_key":      "El node {node} ha respost amb el registre d'un altre codi, de manera que la seva resposta no prova res.",
	"web.code_no_document":    "(S'ha comprovat el codi sense el document.)",
	"web.step_code":           "Codi de verificació",
	"web.code_agency":         "Registrat per",
	"web.code_registered":     "Data de registre",
	"web.code_status":         "Estat",
	"web.code_not_revoked":    "Vigent: no consta com a revocat",
	"web.code_revoked_on":     "Revocat {date}: {reason}",
	"web.download":            "Baixa el rebut complet",
	"web.download_hint":       "Deseu-lo amb el document: amb tots dos es pot comprovar més endavant, també sense connexió.",

	"verdict.registered_log":           "Aquest document va ser registrat per l'organisme {agency} al bloc {height}, el {when}.",
	"verdict.log_checkpoint":           "Consta al registre d'evidències del consorci fins al punt de control de mida {size}, signat per {signers}, que sumen el {share} del poder de vot.",
	"verdict.log_witnesses":            "El punt de control està cosignat per testimonis independents: {witnesses}.",
	"verdict.log_no_status":            "Si va ser revocat no forma part d'aquest rebut: només es pot comprovar en línia, preguntant als nodes del consorci.",
	"reason.receipt_v2_required":       "El vostre paquet de confiança només accepta rebuts de la versió 2, lligats al registre d'evidències del consorci; renoveu aquest rebut (verifier renew).",
	"reason.checkpoint_fork":           "El rebut contradiu el punt de control del registre d'evidències del vostre paquet de confiança: la història que mostra va ser reescrita.",
	"reason.insufficient_cosignatures": "El punt de control del registre d'evidències del rebut no està cosignat per prou testimonis independents dels que exigeix el vostre paquet de confiança.",
	"step.trust_policy":                "Política de confiança",
	"step.log_checkpoint":              "Punt de control del registre d'evidències",
	"step.log_inclusion":               "Inclusió al registre d'evidències",
}
