/* What core/escape.c shares with core/escape_entities.c. */
#ifndef TP_CORE_ESCAPE_INTERNAL_H
#define TP_CORE_ESCAPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* One HTML5 named character reference: the name without its ';', the one or two code points
 * it stands for (cp2 0 for one), and whether the name also counts without the ';' (the 106
 * legacy names such as "amp"). */
typedef struct tp_html_entity {
    const char *name;
    uint32_t cp1, cp2;
    unsigned char bare;
} tp_html_entity;

/* The reference named by the n bytes at p (no ';'), or NULL. */
const tp_html_entity *tp__html_entity_find(const char *p, size_t n);

#endif
