package msg

// gl is Galician.
var gl = map[string]string{
	"verdict.valid":          "VÁLIDO.",
	"verdict.revoked":        "REVOGADO.",
	"verdict.not_valid":      "NON VÁLIDO.",
	"verdict.no_document":    "(Comprobouse o recibo sen o documento.)",
	"verdict.registered":     "Este documento foi rexistrado por {issuer} o {when}.",
	"verdict.confirmed":      "Confirmaron o rexistro {signers}, co {share} do poder de voto.",
	"verdict.not_revoked":    "Non constaba como revogado na data do {when}.",
	"verdict.revoked_on":     "Foi revogado o {when} por {by}: {reason}.",
	"verdict.status_as_of":   "Estado na data do {when}.",
	"verdict.live_checked":   "Estado comprobado en directo con {checked} de {tried} nodos.",
	"verdict.live_unchecked": "Non se puido comprobar se foi revogado despois desa data.",
	"verdict.live_disagree":  "Atención: os nodos non coinciden: segundo {revoking} está revogado, e segundo {other} non o está, cun estado igual ou posterior.",
	"verdict.live_stale":     "Atención: {node} responde cun estado antigo (altura {height}; o máis recente é da altura {newest}).",
	"verdict.live_failed":    "Sen resposta válida de: {nodes}.",
	"verdict.trust":          "Paquete de confianza: pegada SHA-256 {fingerprint}.",

	"list.and":       " e ",
	"list.others":    "outros {count} ministerios",
	"who.governance": "decisión do consorcio (proposta {id})",
	"who.agency":     "a axencia {id}",

	"time.date":       "{day} de {month} de {year}",
	"time.month.1":    "xaneiro",
	"time.month.2":    "febreiro",
	"time.month.3":    "marzo",
	"time.month.4":    "abril",
	"time.month.5":    "maio",
	"time.month.6":    "xuño",
	"time.month.7":    "xullo",
	"time.month.8":    "agosto",
	"time.month.9":    "setembro",
	"time.month.10":   "outubro",
	"time.month.11":   "novembro",
	"time.month.12":   "decembro",
	"time.at":         "{date} ás {time} UTC",
	"time.at_one":     "{date} á {time} UTC",
	"time.local":      "{time} {zone}, hora local",
	"time.local_date": "{date} {time} {zone}, hora local",
	"num.decimal":     ",",
	"num.percent":     "{n} %",

	"reason.malformed_receipt":         "O ficheiro do recibo está danado ou non é un recibo do notario, así que non proba nada.",
	"reason.wrong_chain":               "O recibo pertence a unha rede notarial distinta da que describe o seu paquete de confianza.",
	"reason.document_mismatch":         "O documento non coincide co recibo: non é o documento rexistrado ou foi modificado.",
	"reason.proof_invalid":             "A proba do recibo de que o documento consta na rede notarial non é correcta.",
	"reason.signature_invalid":         "Unha sinatura dun ministerio no recibo non é válida: o recibo foi alterado ou falsificado.",
	"reason.insufficient_signatures":   "O recibo non está asinado por ministerios dabondo: debe confirmalo máis de dous terzos do poder de voto.",
	"reason.validator_set_not_reached": "O recibo está asinado por validadores que non se poden vincular cos membros do consorcio do seu paquete de confianza.",

	"revocation.superseded":      "substituído por un documento máis recente",
	"revocation.issued-in-error": "emitido por erro",
	"revocation.fraud":           "obtido de forma fraudulenta",
	"revocation.expired":         "a súa validez rematou",
	"revocation.court-order":     "por orde xudicial",
	"revocation.other":           "outro motivo",

	"live.receipt":         "o propio recibo",
	"live.node":            "{node} ({error})",
	"live.err.timeout":     "non respondeu en {seconds} s",
	"live.err.unreachable": "non se puido conectar",
	"live.err.http":        "respondeu co código HTTP {code}",
	"live.err.not_found":   "di que non coñece este documento",
	"live.err.busy":        "está ocupado ou sincronizándose",
	"live.err.too_large":   "enviou máis de {limit}",
	"live.err.malformed":   "non enviou un estado co formato esperado",
	"live.err.mismatch":    "enviou o estado doutro documento ou doutra rede",
	"live.err.not_valid":   "enviou un estado cuxa proba non é correcta",

	"step.receipt_format":    "Formato do recibo",
	"step.chain_id":          "Rede notarial",
	"step.validator_chain":   "Cambios de validadores",
	"step.anchor_checkpoint": "Bloque do rexistro",
	"step.status_checkpoint": "Bloque do estado",
	"step.batch_record":      "Lote",
	"step.issuer_record":     "Organismo emisor",
	"step.merkle_inclusion":  "Inclusión no lote",
	"step.status":            "Revogación",
	"step.document":          "Documento",
	"step.live_status":       "Estado en directo",

	"cli.root.short": "comproba un documento rexistrado no notario; vexa e controle quen usa os seus datos",
	"cli.root.long": `verifier comproba documentos rexistrados na cadea do consorcio GobTechLab
Notary: abondan o documento, o seu recibo (*.receipt.json) e o paquete de
confianza do consorcio (trust.json). Non confía en ningún nodo, só nas
sinaturas de máis de dous terzos do poder de voto de conxuntos de
validadores que se encadean desde o paquete de confianza.

  verifier verify DOCUMENTO RECIBO          comproba un documento
  verifier code CÓDIGO [--file DOCUMENTO]   comproba un documento polo seu código de verificación
  verifier inspect RECIBO                   mostra o que di un recibo (sen verificar)
  verifier trust show|fingerprint           o paquete de confianza en uso e a súa pegada
  verifier version                          versión, commit e versión de CometBFT

Como cidadán, coa súa propia clave, falando cun nodo (--node):

  verifier citizen keygen [--out DIR]       crea a súa identidade de cidadán
  verifier consent grant|withdraw|list      xestiona os seus consentimentos
  verifier accesses --trust TRUST           quen obtivo datos seus, verificado

Como testemuña do rexistro do consorcio (un consello de contas, unha universidade):

  verifier witness init|serve               coasina os puntos de control do rexistro (docs/witness.md)

Códigos de saída de verify: 0 válido e non revogado, 3 válido pero revogado,
1 non válido, 2 erro de uso ou ficheiro ilexible. Dos comandos de cidadán:
0 feito, 1 rexeitado ou non verificado, 2 erro de uso, 4 nodo inalcanzable.
Un comando interrompido con SIGINT (Ctrl-C) ou SIGTERM remata con 130.
As entradas deben ser ficheiros normais: unha canalización, un dispositivo
ou un cartafol rexéitanse (saída 2). Os textos seguen --lang, ou LC_ALL,
LC_MESSAGES e LANG (es, en, ca, gl, eu; español por defecto). Cada opción
pode darse tamén con NOTARY_<OPCIÓN>.`,
	"cli.verify.short": "comproba un documento co seu recibo",
	"cli.verify.long": `verify comproba que DOCUMENTO é o documento que o recibo RECIBO proba que foi
rexistrado na cadea do paquete de confianza, e se foi revogado. Escribe un
parágrafo para a cidadanía (ou, con --output json, cada paso e o seu
resultado).

O paquete de confianza búscase nesta orde: --trust, a variable
NOTARY_TRUST, {config}, e o incluído no programa ao publicalo, se o houber.
Escríbese a súa pegada SHA-256, que o consorcio publica para cotexala.

O recibo trae o estado de revogación do día en que se obtivo. Para saber se
o documento se revogou despois, verify pregunta á vez aos nodos públicos do
paquete de confianza e aos de --node, cun límite de {seconds} s por nodo e
de 1 MB por resposta; cada resposta verifícase coma o propio recibo
(sinaturas de máis de dous terzos do poder de voto). Con --offline non usa
a rede e di que non o puido comprobar.

Códigos de saída: 0 válido e non revogado, 3 válido pero revogado (tamén se
un nodo proba unha revogación posterior), 1 non válido, 2 erro de uso ou
ficheiro ilexible.`,
	"cli.flag.trust":   "paquete de confianza do consorcio (trust.json)",
	"cli.flag.node":    "URL dun nodo público ao que preguntar o estado actual (repetible)",
	"cli.flag.offline": "non usar a rede: só o estado que trae o recibo",
	"cli.flag.lang":    "lingua dos textos: es, en, ca, gl ou eu (por defecto: LANG, se non español)",
	"cli.flag.tz":      "fuso horario das horas locais, p. ex. Europe/Madrid (por defecto: o do sistema)",

	"cli.err.no_trust":      "Non se atopou o paquete de confianza: indíqueo con --trust, coa variable NOTARY_TRUST ou póñao en {path}.",
	"cli.err.trust_read":    "Non se puido ler o paquete de confianza {path}: {error}",
	"cli.err.trust_invalid": "O paquete de confianza {path} non é válido: {error}",
	"cli.err.receipt_read":  "Non se puido ler o recibo {path}: {error}",
	"cli.err.document_read": "Non se puido ler o documento {path}: {error}",
	"cli.err.lang":          "Lingua {value} descoñecida: use es, en, ca, gl ou eu.",
	"cli.err.node_url":      "--node {value}: non é un enderezo http:// ou https:// válido.",
	"cli.err.offline_node":  "--offline e --node non se poden usar xuntos.",
	"cli.err.args":          "Indique o documento e o seu recibo: verifier verify DOCUMENTO RECIBO.",

	"cli.usage.usage":        "Uso:",
	"cli.usage.commands":     "Comandos:",
	"cli.usage.flags":        "Opcións:",
	"cli.usage.global_flags": "Opcións globais:",
	"cli.usage.more":         "Use «{command} [comando] --help» para saber máis dun comando.",

	"verdict.code_no_document":  "(Comprobouse polo seu código de verificación, sen o documento.)",
	"verdict.code_not_found":    "NON ATOPADO. Non hai ningún documento rexistrado co código de verificación {code}.",
	"verdict.receipt_saved":     "Recibo gardado en {path}.",
	"verdict.receipt_not_saved": "Non se gardou o recibo: o ficheiro non é o documento rexistrado con este código.",
	"code.err.empty":            "Non se indicou ningún código de verificación.",
	"code.err.symbol":           "O carácter {position} do código, {char}, non se usa nos códigos de verificación.",
	"code.err.confusable":       "O carácter {position} do código, {char}, non se usa nos códigos de verificación (nunca levan 0, O, 1, I nin L).",
	"code.err.length":           "O código ten {count} caracteres; un código de verificación ten {want} (sen contar espazos nin guións).",
	"code.err.check":            "O código de verificación non é correcto: hai un carácter mal escrito ou dous intercambiados. Compróbeo no documento.",
	"code.err.link":             "A ligazón non contén ningún código de verificación.",
	"cli.code.short":            "comprobar o rexistro dun documento polo seu código de verificación",
	"cli.code.long": `code comproba o rexistro do documento cuxo código de verificación é CÓDIGO
(tal como figura impreso, agrupado ou non, ou a ligazón do seu código QR). Un
código mal escrito rexéitase aquí, antes de preguntar nada. O código non sae
deste ordenador: aos nodos pregúntaselles por unha clave derivada del.

Pregúntase por quendas aos nodos públicos do paquete de confianza e aos de
--node polo recibo do documento rexistrado co código; o primeiro recibo
que se verifica co paquete de confianza (sinaturas de máis de dous terzos do
poder de voto) dá o nome rexistrado do organismo emisor, a data de rexistro e
o estado, e aos demais nodos pregúntaselles o estado actual, agardando como
moito {seconds} s a cada un.

Con --file, di se ese ficheiro é exactamente o documento rexistrado co
código, coas mesmas frases que verify; --save-receipt escribe entón o recibo
completo do documento, que verify acepta sen conexión.

Códigos de saída: 0 válido e non revogado, 3 válido pero revogado, 1 non
válido (tamén: o ficheiro non é o documento rexistrado), 5 non hai ningún
documento rexistrado co código, 2 erro de uso, código mal escrito ou ficheiro
ilexible, 4 non se puido preguntar a ningún nodo.`,
	"cli.flag.file":            "o documento que se compara co rexistro (non se envía a ningures)",
	"cli.flag.endpoint":        "URL dun nodo público ao que preguntar tamén (repetible)",
	"cli.flag.save_receipt":    "escribir o recibo completo do documento neste ficheiro",
	"cli.err.code_args":        "Indique o código de verificación: verifier code CÓDIGO.",
	"cli.err.endpoint_url":     "--node {value}: non é un enderezo http:// ou https:// válido.",
	"cli.err.no_endpoints":     "O paquete de confianza non inclúe nodos públicos aos que preguntar: indique un con --node.",
	"cli.err.code_unreachable": "Ningún nodo respondeu sobre o código de verificación: {nodes}.",
	"cli.err.receipt_write":    "Non se puido escribir o recibo {path}: {error}",

	"web.err_no_document":  "Escolla o documento que quere comprobar.",
	"web.no_endpoints":     "O paquete de confianza non indica nodos que consultar: o estado é o que trae o recibo.",
	"web.page_title":       "Verificar un documento rexistrado",
	"web.skip_link":        "Saltar ao formulario",
	"web.intro":            "Comprobe que un documento foi rexistrado por unha administración e se foi revogado. O documento non sae do seu equipo: compróbase neste navegador.",
	"web.language":         "Idioma",
	"web.document":         "Documento",
	"web.document_hint":    "O ficheiro que quere comprobar. Non se envía a ningún sitio.",
	"web.receipt":          "Recibo",
	"web.receipt_hint":     "O recibo de rexistro (ficheiro .receipt.json) que acompaña o documento.",
	"web.drop_hint":        "Tamén pode arrastrar aquí o documento e o seu recibo.",
	"web.chosen":           "Escollido: {name} ({size})",
	"web.none_chosen":      "Ningún ficheiro escollido.",
	"web.receipt_info":     "Recibo da rede {chain}, pegada {alg} {digest}.",
	"web.mode":             "Estado de revogación",
	"web.mode_online":      "Consultar o estado actual nos nodos do consorcio",
	"web.mode_offline":     "Sen conexión: usar só o estado que trae o recibo",
	"web.verify":           "Comprobar",
	"web.reset":            "Comezar de novo",
	"web.hashing":          "Calculando a pegada do documento…",
	"web.asking":           "Consultando {n} nodos do consorcio…",
	"web.checking":         "Comprobando as sinaturas e as probas…",
	"web.result":           "Resultado",
	"web.offline_note":     "Sen conexión: o estado é o que trae o recibo; non se comprobou se o documento foi revogado despois.",
	"web.offline_auto":     "Non se puido contactar con ningún nodo: o estado é o que trae o recibo.",
	"web.details":          "Detalles técnicos",
	"web.steps":            "Comprobacións",
	"web.nodes":            "Nodos consultados",
	"web.step_ok":          "correcto",
	"web.step_failed":      "fallou",
	"web.step_skipped":     "omitido",
	"web.step_not_checked": "non comprobado",
	"web.trust":            "Paquete de confianza",
	"web.fingerprint":      "Pegada (SHA-256) do paquete de confianza: {fp}",
	"web.trust_chain":      "Rede {chain}, {n} validadores.",
	"web.err_no_receipt":   "Escolla o recibo do documento.",
	"web.err_receipt":      "O ficheiro escollido como recibo non é un recibo do notario.",
	"web.err_trust":        "Non se puido cargar o paquete de confianza (trust.json) desta páxina.",
	"web.err_core":         "Non se puido cargar o verificador neste navegador.",
	"web.err_document":     "Non se puido ler o documento.",
	"web.err_verify":       "Non se puido completar a comprobación: {error}",
	"web.node_timeout":     "sen resposta en {s} s",
	"web.node_failed":      "non se puido consultar",
	"web.footer":           "Verificador de recibos de GobTechLab Notary. Unha vez cargada, esta páxina funciona sen conexión.",

	// The web verifier's verification codes.
	"web.receipt_heading":     "Co documento e o seu recibo",
	"web.code_heading":        "Cun código de verificación",
	"web.code_intro":          "Se o documento leva impreso un código de verificación ou un código QR, escriba o código ou abra a ligazón do QR: verá que administración o rexistrou, cando e se segue vixente. O código non sae deste navegador: aos nodos só se lles pide unha pegada súa.",
	"web.code":                "Código de verificación",
	"web.code_hint":           "20 caracteres, como 7KQ4M-XW9TR-2HDNP-C8VE6. Os guións e os espazos son opcionais, e dá igual escribir en maiúsculas ou en minúsculas.",
	"web.code_document":       "Documento (opcional)",
	"web.code_document_hint":  "Se ten o ficheiro do documento, engádao para comprobar que é exactamente o rexistrado. Non se envía a ningún sitio.",
	"web.code_verify":         "Comprobar o código",
	"web.code_err_empty":      "Escriba o código de verificación.",
	"web.code_err_symbol":     "O carácter {pos}, «{char}», non se usa nos códigos de verificación.",
	"web.code_err_confusable": "O carácter {pos}, «{char}», non se usa nos códigos de verificación: nunca levan 0, O, 1, I nin L.",
	"web.code_err_length":     "O código ten {n} caracteres e debe ter {want} (sen contar espazos nin guións).",
	"web.code_err_check":      "O código non é correcto: hai un carácter mal escrito ou dous intercambiados. Revíseo.",
	"web.code_err_link":       "A ligazón non contén ningún código de verificación.",
	"web.code_asking":         "Buscando o código nos nodos do consorcio…",
	"web.code_not_found":      "Non hai ningún documento rexistrado con este código. Comprobe que o escribiu ben.",
	"web.code_unreachable":    "Non se puido consultar ningún nodo do consorcio: un código só se pode comprobar con conexión.",
	"web.code_no_endpoints":   "O paquete de confianza non indica nodos que consultar: un código non se pode comprobar sen eles.",
	"web.code_other_key":      "O nodo {node} respondeu co rexistro doutro código, así que a súa resposta non proba nada.",
	"web.code_no_document":    "(Comprobouse o código sen o documento.)",
	"web.step_code":           "Código de verificación",
	"web.code_agency":         "Rexistrado por",
	"web.code_registered":     "Data de rexistro",
	"web.code_status":         "Estado",
	"web.code_not_revoked":    "Vixente: non consta como revogado",
	"web.code_revoked_on":     "Revogado o {date}: {reason}",
	"web.download":            "Descargar o recibo completo",
	"web.download_hint":       "Gárdeo xunto ao documento: cos dous pódese comprobar máis adiante, tamén sen conexión.",

	"verdict.registered_log":           "Este documento foi rexistrado polo organismo {agency} no bloque {height}, o {when}.",
	"verdict.log_checkpoint":           "Consta no rexistro de evidencias do consorcio ata o punto de control de tamaño {size}, asinado por {signers}, que suman o {share} do poder de voto.",
	"verdict.log_witnesses":            "O punto de control está coasinado por testemuñas independentes: {witnesses}.",
	"verdict.log_no_status":            "Se foi revogado non forma parte deste recibo: só pode comprobarse en liña, preguntando aos nodos do consorcio.",
	"reason.receipt_v2_required":       "O seu paquete de confianza só acepta recibos da versión 2, ligados ao rexistro de evidencias do consorcio; renove este recibo (verifier renew).",
	"reason.checkpoint_fork":           "O recibo contradí o punto de control do rexistro de evidencias do seu paquete de confianza: a historia que mostra foi reescrita.",
	"reason.insufficient_cosignatures": "O punto de control do rexistro de evidencias do recibo non está coasinado por abondas testemuñas independentes das que esixe o seu paquete de confianza.",
	"step.trust_policy":                "Política de confianza",
	"step.log_checkpoint":              "Punto de control do rexistro de evidencias",
	"step.log_inclusion":               "Inclusión no rexistro de evidencias",
}
